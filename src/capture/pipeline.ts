import type { Logger } from "../shared/logger.ts";
import { PartialWriteError } from "../sinks/write-errors.ts";
import type { CaptureRecord } from "../shared/record.ts";
import type { RecordSink } from "../sinks/types.ts";
import type { Capture, RecordContext } from "./capture.ts";
import { BoundedQueue } from "./queue.ts";
import type { RecordHook } from "./record-hook.ts";

/** Why a capture did not fully reach a sink. */
export type DropReason = "queue_full" | "write_error" | "shutdown" | "plugin";

/** The counters of a route the writer moves (the core's RouteMetrics has them). */
export interface CaptureCounters {
  readonly route: string;
  readonly captureDropped: Record<DropReason, number>;
  recordsWritten: number;
}

/** A capture (exchange, frame or event) waiting to be written. */
export interface PendingCapture {
  capture: Capture;
  sinks: readonly RecordSink[];
  metrics: CaptureCounters;
  /** The route's plugins, whose onCapture hooks see the record before the sinks. */
  plugins?: RecordHook | undefined;
}

/** Captured body bytes encoded together at most (one record may exceed it). */
const WRITE_SLICE_BYTES = 4 * 1024 * 1024;
/**
 * Milliseconds of encoding per slice at most: encoding runs on the forwarding
 * thread, so a slice is also a pause in forwarding. Bounding by time instead
 * of a record count lets a slice hold thousands of small frame or event
 * records (a count of 256 let a busy stream outrun the writer) and few large
 * bodies.
 */
const WRITE_SLICE_MS = 4;

/**
 * Records queued that start the writer at once. Measured (1 KiB GET, c32,
 * proxy on one core, JSONL): starting at 1,250 (an eighth of the default
 * queue) made batches of ~1,800 records every 100 ms, whose encoding paused
 * forwarding and whose records survived into V8's old generation (5 ms
 * scavenges, 20/s): p99 20 ms. Starting at 64: p99 3-7 ms, and 5-17% more
 * requests per second, on Node, Deno and Bun.
 */
const EAGER_RECORDS = 64;

/** Lets forwarding run between slices even when the previous write already finished. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** One slice's records per sink, with the metrics of each record's route. */
type SliceRecords = Map<RecordSink, { records: CaptureRecord[]; metrics: CaptureCounters[] }>;

/** Options of the capture pipeline. */
export interface PipelineOptions {
  queueSize: number;
  /** Milliseconds between the first queued record and the batch write. */
  flushInterval: number;
  recordContext: RecordContext;
  logger: Logger;
  /**
   * Sees each slice's records as they go to the sinks (after plugins), e.g.
   * for a live tail; it must not wait or keep the writer busy.
   */
  onRecords?: (records: readonly CaptureRecord[]) => void;
  /** Called each time the writer has released GC_HINT_BYTES of captured body bytes (see Runtime.collectGarbageHint). */
  collectGarbageHint?: () => void;
}

/** Captured bytes written between two garbage-collection hints. */
const GC_HINT_BYTES = 64 * 1024 * 1024;

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
    if (this.#writing !== undefined) return;
    if (this.#queue.length >= this.#eagerDepth) void this.flush();
    else this.#timer ??= setTimeout(() => this.#flushOnTimer(), this.#options.flushInterval);
  }

  /**
   * Queue depth at which the writer starts without waiting for the flush
   * interval: the interval batches light traffic into few writes, but under
   * load waiting only makes the batch, and the pause to encode it, longer.
   */
  get #eagerDepth(): number {
    return Math.max(1, Math.min(EAGER_RECORDS, Math.ceil(this.#queue.capacity / 8)));
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
      // Records that arrived while this batch was written go next: at once
      // when they are many, else after the flush interval.
      if (this.#queue.length >= this.#eagerDepth) void this.flush();
      else if (this.#queue.length > 0) {
        this.#timer ??= setTimeout(() => this.#flushOnTimer(), this.#options.flushInterval);
      }
    });
    await this.#writing;
  }

  /**
   * Writes a batch in slices bounded by WRITE_SLICE_BYTES of captured body and
   * WRITE_SLICE_MS of encoding. A record's text and JSON take several times
   * its raw bytes, so encoding a whole batch of large bodies at once
   * multiplied memory; slicing bounds it, and the raw bytes stay reserved in
   * the budget until their slice is written, so new captures are truncated
   * (and counted) instead. The next slice is encoded while the previous one
   * is being written; sinks keep their writes in order.
   */
  async #write(batch: PendingCapture[]): Promise<void> {
    let next = 0;
    let previous: Promise<void> | undefined;
    while (next < batch.length) {
      const deadline = performance.now() + WRITE_SLICE_MS;
      const slice: PendingCapture[] = [];
      const built: (CaptureRecord | undefined)[] = [];
      let bytes = 0;
      while (
        next < batch.length && (slice.length === 0 || (bytes < WRITE_SLICE_BYTES && performance.now() < deadline))
      ) {
        const item = batch[next++]!;
        slice.push(item);
        bytes += item.capture.heldBytes;
        built.push(await this.#build(item));
      }
      await this.#runPlugins(slice, built);
      this.#publish(built);
      const bySink: SliceRecords = new Map();
      slice.forEach((item, i) => {
        const record = built[i];
        if (record === undefined) return;
        for (const sink of item.sinks) {
          let entry = bySink.get(sink);
          if (!entry) bySink.set(sink, entry = { records: [], metrics: [] });
          entry.records.push(record);
          entry.metrics.push(item.metrics);
        }
      });
      const written = this.#writeSlice(bySink).finally(() => {
        for (const item of slice) item.capture.release();
        this.#afterRelease(bytes);
      });
      // Two slices in flight at most: one being written, one being encoded.
      await Promise.all([previous, yieldToEventLoop()]);
      previous = written;
    }
    await previous;
  }

  /** Bytes released since the last garbage-collection hint. */
  #releasedSinceHint = 0;

  #afterRelease(bytes: number): void {
    const hint = this.#options.collectGarbageHint;
    if (hint === undefined) return;
    this.#releasedSinceHint += bytes;
    if (this.#releasedSinceHint < GC_HINT_BYTES) return;
    this.#releasedSinceHint = 0;
    hint();
  }

  #publish(built: readonly (CaptureRecord | undefined)[]): void {
    const observer = this.#options.onRecords;
    if (observer === undefined) return;
    try {
      observer(built.filter((record): record is CaptureRecord => record !== undefined));
    } catch (error) {
      this.#options.logger.error("Failed to publish captured records", { error });
    }
  }

  /** The record of a capture, or undefined (counted and logged) when it cannot be built. */
  async #build(item: PendingCapture): Promise<CaptureRecord | undefined> {
    try {
      const built = item.capture.toRecord(this.#options.recordContext);
      // Frames and events build synchronously; only exchanges may need to decompress.
      const record = built instanceof Promise ? await built : built;
      if (item.plugins !== undefined) record.plugin_generation = item.plugins.generation;
      return record;
    } catch (error) {
      item.metrics.captureDropped.write_error++;
      this.#options.logger.error("Failed to build a capture record", { route: item.metrics.route, error });
      return undefined;
    }
  }

  /**
   * Runs each route's onCapture hooks over the slice's records, all records
   * of one plugin set together (a plugin exporting onCaptureBatch sees them
   * in one call). `built[i]` becomes undefined for a record a plugin dropped.
   */
  async #runPlugins(slice: readonly PendingCapture[], built: (CaptureRecord | undefined)[]): Promise<void> {
    const byHook = new Map<RecordHook, number[]>();
    slice.forEach((item, i) => {
      const record = built[i];
      const plugins = item.plugins;
      if (record === undefined || plugins === undefined || record.type === "custom") return;
      if (!plugins.uses("onCapture")) return;
      const indexes = byHook.get(plugins);
      if (indexes) indexes.push(i);
      else byHook.set(plugins, [i]);
    });
    for (const [plugins, indexes] of byHook) {
      try {
        const results = await plugins.runCaptures(indexes.map((i) => built[i]!));
        indexes.forEach((i, n) => {
          const record = results[n]!.record;
          if (record === null) slice[i]!.metrics.captureDropped.plugin++;
          built[i] = record ?? undefined;
        });
      } catch (error) {
        for (const i of indexes) {
          slice[i]!.metrics.captureDropped.write_error++;
          built[i] = undefined;
        }
        this.#options.logger.error("Failed to run capture plugins", {
          route: slice[indexes[0]!]!.metrics.route,
          error,
        });
      }
    }
  }

  async #writeSlice(bySink: SliceRecords): Promise<void> {
    await Promise.all(
      [...bySink].map(async ([sink, { records, metrics }]) => {
        try {
          await sink.writeBatch(records);
          for (const m of metrics) m.recordsWritten++;
        } catch (error) {
          // A batch cut short (a full disk) says how many of its first records reached the file.
          const written = error instanceof PartialWriteError ? error.written : 0;
          for (let i = 0; i < metrics.length; i++) {
            if (i < written) metrics[i]!.recordsWritten++;
            else metrics[i]!.captureDropped.write_error++;
          }
          this.#options.logger.error("Failed to write captured records", {
            sink: sink.name,
            records: records.length - written,
            ...(written > 0 ? { written } : {}),
            error,
          });
        }
      }),
    );
  }
}
