/**
 * Sinks receive finished records in batches. A sink never throws into the
 * forwarding path: the writer catches, counts and logs its failures.
 */
import type { CaptureRecord } from "../shared/record.ts";

/** A destination for records (JSONL file, later SQLite). */
export interface RecordSink {
  /** A short description for logs, e.g. `jsonl ./data/api.jsonl`. */
  readonly name: string;
  /** Writes a batch; one filesystem write per batch where the format allows. */
  writeBatch(records: readonly CaptureRecord[]): Promise<void>;
  /**
   * Writes records already encoded as JSONL lines (without newlines), for a sink that writes that text as it is
   * (the JSONL sink): the capture thread receives lines and need not parse them for it.
   */
  writeLines?(lines: readonly string[]): Promise<void>;
  /** Flushes and releases resources. */
  close(): Promise<void>;
}

/** An append-only file handle supplied by the runtime adapter. */
export interface AppendFile {
  /**
   * Appends UTF-8 text (the runtime encodes it natively); resolves with the
   * bytes written. Rejects with an `AppendFailure` (write-errors.ts) saying
   * how many bytes reached the file when it fails part-way (a full disk).
   */
  append(text: string): Promise<number>;
  /** Cuts the file to `size` bytes (a partial line after a failed append). */
  truncate(size: number): Promise<void>;
  /** Whether the path still names this open file (false once it was deleted or replaced). */
  isCurrent(): Promise<boolean>;
  close(): Promise<void>;
}

/** The file operations sinks need, supplied by the runtime adapter. */
export interface SinkFileSystem {
  /** Opens `path` for appending, creating it and its parent directories. */
  openAppend(path: string): Promise<AppendFile>;
  /**
   * Replaces `path` with `bytes` atomically: written to a temporary file in
   * the same directory, then renamed over it, so a crash leaves the old file
   * or the new one, never half of one.
   */
  writeFileAtomic(path: string, bytes: Uint8Array): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  /** `length` bytes from `offset` (fewer at the end of the file), without reading the rest. */
  readRange(path: string, offset: number, length: number): Promise<Uint8Array>;
  rename(from: string, to: string): Promise<void>;
  /** Writes `from` compressed to `to` (streamed); rejects for a format the runtime lacks. */
  compressFile?(from: string, to: string, format: "gzip" | "zstd"): Promise<void>;
  /** Whether `compressFile` can write this format here. */
  canCompress?(format: "gzip" | "zstd"): boolean;
  /** Removes a file; a missing file is not an error. */
  remove(path: string): Promise<void>;
  /** Names (not paths) of the entries of a directory; a missing directory is empty. */
  list(dir: string): Promise<string[]>;
  /** Size in bytes, or undefined when the file does not exist. */
  size(path: string): Promise<number | undefined>;
}
