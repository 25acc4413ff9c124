import type { Logger } from "../core/logger.ts";
import type { RouteMetrics } from "../core/metrics.ts";
import type { RecordSink } from "../sinks/types.ts";
import type { Capture, RecordContext } from "./capture.ts";
import { BoundedQueue } from "./queue.ts";
import type { CaptureRecord } from "./record.ts";

/** A capture (exchange, frame or event) waiting to be written. */
export interface PendingCapture {
  capture: Capture;
  sinks: readonly RecordSink[];
  metrics: RouteMetrics;
}

/** Captured body bytes encoded and written together at most (one record may exceed it). */
const WRITE_SLICE_BYTES = 4 * 1024 * 1024;
/**
 * Records encoded together at most: encoding runs on the forwarding thread,
 * so a slice is also a pause in forwarding; this keeps pauses to a few ms.
 */
const WRITE_SLICE_RECORDS = 256;

/** Options of the capture pipeline. */
export interface PipelineOptions {
  queueSize: number;
  /** Milliseconds between the first queued record and the batch write. */
  flushInterval: number;
  recordContext: RecordContext;
  logger: Logger;
}

/**
 * Carries finished captures from forwarding to the sinks: a bounded queue,
 * drained in batches on a timer, one write per sink per batch. Forwarding only
 * ever calls `submit`, which never waits.
 */
export class CapturePipeline {
  readonly #queue: BoundedQueue<PendingCapture>;
  readonly #options: PipelineOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> | undefined;

  constructor(options: PipelineOptions) {
    this.#options = options;
    this.#queue = new BoundedQueue(options.queueSize);
  }

  /** Records waiting for the writer. */
  get depth(): number {
    return this.#queue.length;
  }

  /** Hands a finished capture to the writer; drops and counts it when the queue is full. */
  submit(item: PendingCapture): void {
    if (!this.#queue.offer(item)) {
      item.metrics.captureDropped.queue_full++;
      item.capture.release();
      return;
    }
    if (this.#timer === undefined && this.#writing === undefined) {
      this.#timer = setTimeout(() => this.#flushOnTimer(), this.#options.flushInterval);
    }
  }

  #flushOnTimer(): void {
    this.#timer = undefined;
    void this.flush();
  }

  /** Writes everything queued so far; resolves when it is on disk (or counted as failed). */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const batch = this.#queue.drain();
    if (batch.length === 0) return;
    this.#writing = this.#write(batch).finally(() => {
      this.#writing = undefined;
      // Records that arrived while this batch was written get their own timer.
      if (this.#queue.length > 0 && this.#timer === undefined) {
        this.#timer = setTimeout(() => this.#flushOnTimer(), this.#options.flushInterval);
      }
    });
    await this.#writing;
  }

  /**
   * Writes a batch in slices of about WRITE_SLICE_BYTES of captured body or
   * WRITE_SLICE_RECORDS records.
   * A record's text and JSON take several times its raw bytes, so encoding a
   * whole batch of large bodies at once multiplied memory; slicing bounds it,
   * and the raw bytes stay reserved in the budget until their slice is
   * written, so new captures are truncated (and counted) instead.
   */
  async #write(batch: PendingCapture[]): Promise<void> {
    let start = 0;
    while (start < batch.length) {
      let end = start;
      let bytes = 0;
      while (
        end < batch.length && (end === start || (bytes < WRITE_SLICE_BYTES && end - start < WRITE_SLICE_RECORDS))
      ) {
        bytes += batch[end]!.capture.heldBytes;
        end++;
      }
      const slice = batch.slice(start, end);
      try {
        await this.#writeSlice(slice);
      } finally {
        for (const item of slice) item.capture.release();
      }
      start = end;
    }
  }

  async #writeSlice(slice: PendingCapture[]): Promise<void> {
    const bySink = new Map<RecordSink, { records: CaptureRecord[]; metrics: RouteMetrics[] }>();
    for (const item of slice) {
      let record: CaptureRecord;
      try {
        record = await item.capture.toRecord(this.#options.recordContext);
      } catch (error) {
        item.metrics.captureDropped.write_error++;
        this.#options.logger.error("Failed to build a capture record", { route: item.metrics.route, error });
        continue;
      }
      for (const sink of item.sinks) {
        let entry = bySink.get(sink);
        if (!entry) bySink.set(sink, entry = { records: [], metrics: [] });
        entry.records.push(record);
        entry.metrics.push(item.metrics);
      }
    }
    await Promise.all(
      [...bySink].map(async ([sink, { records, metrics }]) => {
        try {
          await sink.writeBatch(records);
          for (const m of metrics) m.recordsWritten++;
        } catch (error) {
          for (const m of metrics) m.captureDropped.write_error++;
          this.#options.logger.error("Failed to write captured records", {
            sink: sink.name,
            records: records.length,
            error,
          });
        }
      }),
    );
  }
}
