/**
 * An in-memory RecordSink for tests: it keeps every batch it is given, and
 * can be told to fail so the pipeline's error handling can be checked.
 */
import type { CaptureRecord } from "../../../src/shared/record.ts";
import type { RecordSink } from "../../../src/sinks/types.ts";

export class MemorySink implements RecordSink {
  readonly name: string;
  /** Each writeBatch call's records, in call order. */
  readonly batches: CaptureRecord[][] = [];
  /** When set, writeBatch rejects with it (and keeps nothing). */
  failWith: Error | undefined;
  /** When set, writeBatch waits for it before keeping the batch. */
  gate: Promise<void> | undefined;
  closed = 0;

  constructor(name = "memory") {
    this.name = name;
  }

  /** Every record written so far, across batches. */
  get records(): CaptureRecord[] {
    return this.batches.flat();
  }

  async writeBatch(records: readonly CaptureRecord[]): Promise<void> {
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    this.batches.push([...records]);
  }

  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }
}
