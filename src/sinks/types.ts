/**
 * Sinks receive finished records in batches. A sink never throws into the
 * forwarding path: the writer catches, counts and logs its failures.
 */
import type { CaptureRecord } from "../capture/record.ts";

/** A destination for records (JSONL file, later SQLite). */
export interface RecordSink {
  /** A short description for logs, e.g. `jsonl ./data/api.jsonl`. */
  readonly name: string;
  /** Writes a batch; one filesystem write per batch where the format allows. */
  writeBatch(records: readonly CaptureRecord[]): Promise<void>;
  /** Flushes and releases resources. */
  close(): Promise<void>;
}

/** An append-only file handle supplied by the runtime adapter. */
export interface AppendFile {
  /** Appends UTF-8 text; the runtime encodes it natively. */
  append(text: string): Promise<void>;
  close(): Promise<void>;
}

/** The file operations sinks need, supplied by the runtime adapter. */
export interface SinkFileSystem {
  /** Opens `path` for appending, creating it and its parent directories. */
  openAppend(path: string): Promise<AppendFile>;
}
