import { describeError } from "../shared/describe-error.ts";
import type { CaptureRecord } from "../shared/record.ts";
import { UnavailableError } from "../shared/errors.ts";
import { loadSqlJs, queryRows, sqlJsDatabase } from "./sql-js.ts";
import type { SqlCell, SqlRow } from "./sql-database.ts";
import { insertBatch, InsertError, RecordInserter } from "./sqlite-inserter.ts";
import { applySchema } from "./sqlite-schema.ts";
import type { SinkFileSystem } from "./types.ts";
import type { SqliteSegment } from "./sqlite-segment.ts";

/** See SqliteSink.maxSegmentBytes. */
export const MAX_SQLJS_SEGMENT_BYTES = 32 * 1024 * 1024;
import type { Database, SqlJsStatic } from "sql.js";

/** Options of a {@link SqliteSink}. */
export interface SqliteSinkOptions {
  /**
   * How often changed rows are written to the file, in milliseconds (default
   * 5000). 0 turns the timer off: only `flush`, `rotate` and `close` write.
   */
  flushIntervalMs?: number;
  /** Receives the failures of timer-driven flushes, which have no caller to reject. */
  onError?: (error: unknown) => void;
}

/** A database whose rows are held in memory until a rotation has written them. */
interface PendingRotation {
  toPath: string;
  bytes: Uint8Array;
}

/**
 * Writes records into a SQLite database through sql.js. The live database is
 * in memory; its file is replaced atomically (temporary file + rename) on an
 * interval when rows changed, on `flush()`, `rotate()` and `close()`, so the
 * file always opens in the `sqlite3` shell. Opening an existing file loads it,
 * so a restart appends.
 *
 * `db.export()` is synchronous and costs time and memory in proportion to the
 * database (about 130 ms and a second copy at 100 MiB), which is why segments
 * should be rotated at a bounded size: see `approximateBytes`.
 */
export class SqliteSink implements SqliteSegment {
  readonly name: string;
  readonly path: string;
  /**
   * Largest segment, whatever `--rotate-size` says: the live database is in
   * memory and each flush exports all of it on the forwarding thread
   * (measured 60-80 ms and about +100 MB at 100 MB), so segments stay small.
   */
  readonly maxSegmentBytes = MAX_SQLJS_SEGMENT_BYTES;
  readonly #fs: SinkFileSystem;
  readonly #flushIntervalMs: number;
  readonly #onError: (error: unknown) => void;
  #sql: SqlJsStatic | undefined;
  #db: Database | undefined;
  #inserter: RecordInserter | undefined;
  #opening: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Rows (or a fresh schema) in memory that the file does not have yet. */
  #dirty = false;
  #closed = false;
  #pending: PendingRotation | undefined;
  /** The last file operation issued; the next one starts after it, so writes to the file keep their order. */
  #tail: Promise<void> = Promise.resolve();
  /** A timer flush is queued or running; the timer does not queue another. */
  #timerFlushing = false;

  constructor(path: string, fs: SinkFileSystem, options: SqliteSinkOptions = {}) {
    this.path = path;
    this.name = `sqlite ${path}`;
    this.#fs = fs;
    this.#flushIntervalMs = options.flushIntervalMs ?? 5000;
    this.#onError = options.onError ?? (() => {});
  }

  /**
   * Loads sql.js and the existing file (or creates the file with an empty
   * schema), so a bad path or a file that is not a database fails at start-up.
   */
  open(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`SQLite sink ${this.path} is closed`));
    this.#opening ??= this.#open().catch((error: unknown) => {
      this.#opening = undefined;
      throw error;
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    this.#sql = await loadSqlJs();
    const existing = (await this.#fs.size(this.path)) !== undefined;
    const bytes = existing ? await this.#fs.readFile(this.path) : undefined;
    let db: Database | undefined;
    try {
      db = new this.#sql.Database(bytes);
      this.#prepare(db);
    } catch (error) {
      db?.close();
      throw new UnavailableError(`Cannot open SQLite database ${this.path}: ${describeError(error)}`, "sqlite_open", {
        cause: error,
      });
    }
    this.#db = db;
    this.#inserter = new RecordInserter(sqlJsDatabase(db));
    if (!existing) {
      this.#dirty = true;
      await this.#flushNow();
    }
    if (this.#flushIntervalMs > 0) {
      this.#timer = setInterval(() => this.#onTimer(), this.#flushIntervalMs);
      // Node and Bun: the timer alone must not keep the process alive.
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  #prepare(db: Database): void {
    // Measured on 1 KiB http records: 16 KiB pages make the file about a
    // quarter smaller than 4 KiB ones (so exports are cheaper) and inserts
    // faster; it only takes effect on a new, empty database.
    db.run("PRAGMA page_size = 16384");
    // The database lives in sql.js's memory file system, which no other
    // process sees: an exclusive lock spares the per-transaction lock and
    // change-counter checks (~30% faster inserts), and a journal in memory
    // keeps ROLLBACK working without a second in-memory file.
    db.run("PRAGMA locking_mode = EXCLUSIVE");
    db.run("PRAGMA journal_mode = MEMORY");
    db.run("PRAGMA synchronous = OFF");
    applySchema(sqlJsDatabase(db));
  }

  #onTimer(): void {
    if (!this.#dirty || this.#timerFlushing || this.#closed) return;
    this.#timerFlushing = true;
    this.flush().catch(this.#onError).finally(() => (this.#timerFlushing = false));
  }

  /**
   * Inserts the batch in one transaction with prepared statements. A record
   * that fails does not stop the others; the batch then rejects naming how
   * many failed.
   */
  async writeBatch(records: readonly CaptureRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (this.#closed) throw new Error(`SQLite sink ${this.path} is closed`);
    if (!this.#inserter) await this.open();
    // Nothing awaits from BEGIN to COMMIT, so an export never sees half a batch.
    try {
      insertBatch(sqlJsDatabase(this.#db!), this.#inserter!, records, this.path);
      this.#dirty = true;
    } catch (error) {
      if (error instanceof InsertError && error.inserted > 0) this.#dirty = true;
      throw error;
    }
  }

  /** Size of the live database in bytes (`page_count * page_size`), 0 before it is open. */
  /** Reads the in-memory database, which holds rows the file gets at the next flush. */
  query(sql: string, params: readonly SqlCell[]): SqlRow[] {
    return this.#db ? queryRows(this.#db, sql, params) : [];
  }

  get approximateBytes(): number {
    const db = this.#db;
    if (!db) return 0;
    const count = db.exec("PRAGMA page_count")[0]?.values[0]?.[0];
    const size = db.exec("PRAGMA page_size")[0]?.values[0]?.[0];
    return Number(count ?? 0) * Number(size ?? 0);
  }

  /** Writes the database to its file now if rows changed since the last write. */
  flush(): Promise<void> {
    return this.#enqueue(() => this.#flushNow());
  }

  /**
   * Ends the current segment: its rows go to `toPath` (which must not exist
   * and should be in the same directory, so a rename moves it), and a fresh
   * empty database takes over `path`. Records written after this call starts
   * go to the fresh database. If the move fails the rows stay in memory and
   * the next `flush`, `rotate` or `close` retries it.
   */
  rotate(toPath: string): Promise<void> {
    return this.#enqueue(async () => {
      await this.#retryPending();
      if ((await this.#fs.size(toPath)) !== undefined) {
        throw new Error(`Cannot rotate ${this.path} to ${toPath}: the file exists`);
      }
      const old = this.#db!;
      // Export and swap without awaiting in between, so no row lands in the
      // old database after its bytes were taken.
      const bytes = old.export();
      this.#inserter!.free();
      old.close();
      const fresh = new this.#sql!.Database();
      this.#prepare(fresh);
      this.#db = fresh;
      this.#inserter = new RecordInserter(sqlJsDatabase(fresh));
      this.#dirty = true;
      this.#pending = { toPath, bytes };
      await this.#retryPending();
      await this.#flushNow();
    });
  }

  /** Flushes, stops the timer and releases the database. Calling it twice is harmless. */
  async close(): Promise<void> {
    if (this.#closed) {
      await this.#tail.catch(() => {});
      return;
    }
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const opening = this.#opening;
    if (!opening) {
      this.#closed = true;
      return;
    }
    await opening.catch(() => {});
    try {
      if (this.#db) await this.flush();
    } finally {
      this.#closed = true;
      this.#inserter?.free();
      this.#db?.close();
      this.#inserter = undefined;
      this.#db = undefined;
    }
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.#tail.catch(() => {}).then(async () => {
      await this.open();
      if (!this.#db) throw new Error(`SQLite sink ${this.path} is closed`);
      await step();
    });
    this.#tail = run;
    return run;
  }

  async #flushNow(): Promise<void> {
    await this.#retryPending();
    if (!this.#dirty) return;
    const bytes = this.#db!.export();
    this.#dirty = false;
    try {
      await this.#fs.writeFileAtomic(this.path, bytes);
    } catch (error) {
      this.#dirty = true;
      throw error;
    }
  }

  /**
   * Moves a rotated segment's bytes to its rotated name: written over `path`
   * first, then renamed, so a crash at any point leaves each row in exactly
   * one file (a restart loads `path`, or finds it gone and starts fresh).
   */
  async #retryPending(): Promise<void> {
    const pending = this.#pending;
    if (!pending) return;
    await this.#fs.writeFileAtomic(this.path, pending.bytes);
    try {
      await this.#fs.rename(this.path, pending.toPath);
    } catch {
      // Another file system (EXDEV) or directory: write a copy; `path` is
      // replaced by the fresh database right after.
      await this.#fs.writeFileAtomic(pending.toPath, pending.bytes);
    }
    this.#pending = undefined;
  }
}
