import type { CaptureRecord } from "../shared/record.ts";
import { applyRetention } from "./retention.ts";
import { baseName, directoryOf, rotatedPath } from "./rotated-name.ts";
import { type RotationPolicy, Rotator } from "./rotator.ts";
import type { SqliteSegment } from "./sqlite-segment.ts";
import type { SqlCell, SqlRow } from "./sql-database.ts";
import type { RecordSink, SinkFileSystem } from "./types.ts";

/** Rotation settings of a SQLite sink. */
export interface SqliteRotationOptions {
  rotation: RotationPolicy;
  /** Rotated files to keep; -1 or absent keeps all (S3 deletes them instead). */
  retention?: number;
  /** Called with each rotated file once it is complete. */
  onRotated?: (rotatedPath: string) => void;
  /** Rotation failures, which have no caller to reject. */
  onError?: (error: Error) => void;
}

/**
 * A SQLite sink that rotates its database by size (bounded by the engine's
 * `maxSegmentBytes`) and interval, then applies retention and reports
 * the rotated file (for S3).
 */
export class RotatingSqliteSink implements RecordSink {
  readonly name: string;
  readonly path: string;
  readonly #sink: SqliteSegment;
  readonly #fs: SinkFileSystem;
  readonly #options: SqliteRotationOptions;
  readonly #rotator: Rotator;
  #rotating: Promise<void> = Promise.resolve();
  #closed = false;
  /** The database size at the last measurement, to count growth (a fresh database already holds its schema). */
  #measured = 0;

  constructor(sink: SqliteSegment, fs: SinkFileSystem, options: SqliteRotationOptions) {
    this.#sink = sink;
    this.name = sink.name;
    this.path = sink.path;
    this.#fs = fs;
    this.#options = options;
    const limit = options.rotation.maxBytes > 0 ? options.rotation.maxBytes : Infinity;
    this.#rotator = new Rotator(
      { maxBytes: Math.min(limit, sink.maxSegmentBytes), intervalMs: options.rotation.intervalMs },
      () => void this.#rotate().catch((error) => this.#options.onError?.(error as Error)),
    );
  }

  async open(): Promise<void> {
    const existed = (await this.#fs.size(this.path)) !== undefined;
    await this.#sink.open();
    this.#measured = this.#sink.approximateBytes;
    // Rows kept from before a restart count towards the segment; an empty schema does not.
    this.#rotator.opened(existed ? this.#measured : 0);
  }

  async writeBatch(records: readonly CaptureRecord[]): Promise<void> {
    await this.#sink.writeBatch(records);
    const bytes = this.#sink.approximateBytes;
    const grown = bytes - this.#measured;
    this.#measured = bytes;
    // Rows that fit in pages already allocated do not grow the file, but they
    // are data: a batch with rows must not leave the segment looking empty,
    // or an interval ending now would be skipped as idle.
    const counted = grown > 0 ? grown : records.length > 0 ? 1 : 0;
    if (this.#rotator.appended(counted)) {
      await this.#rotate().catch((error) => this.#options.onError?.(error as Error));
    }
  }

  /** Rotates now if a trigger fired; one rotation at a time. */
  #rotate(): Promise<void> {
    const next = this.#rotating.then(async () => {
      if (this.#closed || !this.#rotator.due || this.#rotator.size === 0) return;
      const names = new Set(await this.#fs.list(directoryOf(this.path)));
      const target = rotatedPath(this.path, new Date(), (candidate) => names.has(baseName(candidate)));
      await this.#sink.rotate(target);
      this.#measured = this.#sink.approximateBytes;
      this.#rotator.opened(0);
      const keep = this.#options.retention;
      if (keep !== undefined && keep >= 0) await applyRetention(this.#fs, this.path, keep);
      this.#options.onRotated?.(target);
    });
    this.#rotating = next.catch(() => {});
    return next;
  }

  /** Reads the live database (see SqliteSegment.query). */
  query(sql: string, params: readonly SqlCell[]): SqlRow[] {
    return this.#sink.query(sql, params);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#rotator.stop();
    await this.#rotating;
    await this.#sink.close();
  }
}
