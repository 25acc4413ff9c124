/**
 * The native SQLite engine (`sqlite_engine: native`): the database file
 * itself, in WAL mode, written one transaction per batch with prepared
 * statements. Rows are in the file (its `-wal`) when the batch commits, so a
 * `sqlite3` shell sees them at once and a `kill -9` loses nothing committed;
 * nothing is exported, so segments need no size cap beyond `--rotate-size`.
 * The runtime opens the database (`node:sqlite`), so this file has no runtime
 * import.
 *
 * Batches share a transaction for up to `commitIntervalMs` (group commit):
 * the writer hands over ~64 records at a time under load, and committing each
 * batch rewrote the touched pages of nine indexes into the WAL every time
 * (measured: 0.52-0.58x of JSONL-only throughput, against ~0.85-1.0 with
 * large batches). Rows are in the file when their group commits.
 */
import { describeError } from "../shared/describe-error.ts";
import { UnavailableError } from "../shared/errors.ts";
import type { CaptureRecord } from "../shared/record.ts";
import type { OpenNativeDatabase, SqlCell, SqlDatabase, SqlRow } from "./sql-database.ts";
import type { SqliteSegment } from "./sqlite-segment.ts";
import { InsertError, RecordInserter } from "./sqlite-inserter.ts";
import { applySchema } from "./sqlite-schema.ts";
import type { SinkFileSystem } from "./types.ts";

/** Options of the native SQLite sink. */
export interface NativeSqliteOptions {
  /** Milliseconds a batch may wait in the open transaction before it is committed (default 200). */
  commitIntervalMs?: number;
  /** Called when a commit the timer started fails (its rows are lost). */
  onError?: (error: unknown) => void;
}

/** Rows held in one open transaction at most; more commit at once. */
const MAX_GROUP_ROWS = 10_000;

/** Writes records into a SQLite file through the runtime's native engine. */
export class NativeSqliteSink implements SqliteSegment {
  readonly name: string;
  readonly path: string;
  readonly maxSegmentBytes = Infinity;
  readonly #fs: SinkFileSystem;
  readonly #openDatabase: OpenNativeDatabase;
  #db: SqlDatabase | undefined;
  #inserter: RecordInserter | undefined;
  #opening: Promise<void> | undefined;
  /** A rotation under way: the file is closed, renamed and reopened, and writes wait for it. */
  #rotating: Promise<void> | undefined;
  #closed = false;
  readonly #commitIntervalMs: number;
  readonly #onError: (error: unknown) => void;
  /** Rows inserted in the open transaction (0: none is open). */
  #pendingRows = 0;
  #commitTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(path: string, fs: SinkFileSystem, openDatabase: OpenNativeDatabase, options: NativeSqliteOptions = {}) {
    this.path = path;
    this.name = `sqlite ${path}`;
    this.#fs = fs;
    this.#openDatabase = openDatabase;
    this.#commitIntervalMs = options.commitIntervalMs ?? 200;
    this.#onError = options.onError ?? (() => {});
  }

  /** Opens (or creates) the file and brings its schema up to date. */
  open(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`SQLite sink ${this.path} is closed`));
    this.#opening ??= this.#open().catch((error: unknown) => {
      this.#opening = undefined;
      throw error;
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    let db: SqlDatabase | undefined;
    try {
      db = await this.#openDatabase(this.path);
      // Page size first: it only takes effect before the first table (and WAL) exist.
      db.run("PRAGMA page_size = 16384");
      db.run("PRAGMA journal_mode = WAL");
      // WAL with NORMAL: a commit survives a crash of the process; only a power loss may lose the last ones.
      db.run("PRAGMA synchronous = NORMAL");
      db.run("PRAGMA busy_timeout = 2000");
      applySchema(db);
      this.#inserter = new RecordInserter(db);
      this.#db = db;
    } catch (error) {
      db?.close();
      throw new UnavailableError(`Cannot open SQLite database ${this.path}: ${describeError(error)}`, "sqlite_open", {
        cause: error,
      });
    }
  }

  /**
   * Inserts the batch into the open transaction (beginning one when none is),
   * committed within `commitIntervalMs`; a record that fails does not stop
   * the others.
   */
  async writeBatch(records: readonly CaptureRecord[]): Promise<void> {
    if (records.length === 0) return;
    // An interval rotation runs on its own timer: a batch arriving while the
    // file is closed and renamed waits for the fresh one.
    while (this.#rotating) await this.#rotating;
    if (this.#closed) throw new Error(`SQLite sink ${this.path} is closed`);
    if (!this.#inserter) await this.open();
    const db = this.#db!;
    const inserter = this.#inserter!;
    if (this.#pendingRows === 0) db.run("BEGIN");
    let failed = 0;
    let firstError: unknown;
    for (const record of records) {
      try {
        inserter.insert(record);
        this.#pendingRows++;
      } catch (error) {
        failed++;
        firstError ??= error;
      }
    }
    if (this.#pendingRows >= MAX_GROUP_ROWS || this.#commitIntervalMs <= 0) this.#commit();
    else if (this.#pendingRows > 0) {
      this.#commitTimer ??= setTimeout(() => {
        this.#commitTimer = undefined;
        try {
          this.#commit();
        } catch (error) {
          this.#onError(error);
        }
      }, this.#commitIntervalMs);
    } else db.run("ROLLBACK");
    if (failed > 0) {
      throw new InsertError(
        `Failed to insert ${failed} of ${records.length} records into ${this.path}: ${describeError(firstError)}`,
        records.length - failed,
        firstError,
      );
    }
  }

  /** Commits the open transaction, if any; on failure its rows are rolled back and the error thrown. */
  #commit(): void {
    if (this.#commitTimer !== undefined) {
      clearTimeout(this.#commitTimer);
      this.#commitTimer = undefined;
    }
    if (this.#pendingRows === 0 || !this.#db) return;
    const rows = this.#pendingRows;
    this.#pendingRows = 0;
    try {
      this.#db.run("COMMIT");
    } catch (error) {
      try {
        this.#db.run("ROLLBACK");
      } catch { /* the transaction is already gone */ }
      throw new Error(`Failed to commit ${rows} records to ${this.path}: ${describeError(error)}`, { cause: error });
    }
  }

  /** Reads through the writing connection, which sees rows its open transaction has not committed yet. */
  query(sql: string, params: readonly SqlCell[]): SqlRow[] {
    return this.#db ? this.#db.query(sql, params) : [];
  }

  /** Size of the database in bytes (`page_count * page_size`), 0 before it is open. */
  get approximateBytes(): number {
    const db = this.#db;
    if (!db) return 0;
    return Number(db.rows("PRAGMA page_count")[0]?.[0] ?? 0) * Number(db.rows("PRAGMA page_size")[0]?.[0] ?? 0);
  }

  /** Commits the rows waiting in the open transaction. */
  async flush(): Promise<void> {
    while (this.#rotating) await this.#rotating;
    this.#commit();
  }

  /**
   * Ends the segment: the WAL is folded into the file, which is closed and
   * renamed to `toPath` (a complete database on its own), and a fresh file
   * takes over `path`.
   */
  async rotate(toPath: string): Promise<void> {
    while (this.#rotating) await this.#rotating;
    const rotating = this.#rotate(toPath);
    this.#rotating = rotating.catch(() => {}).finally(() => (this.#rotating = undefined));
    await rotating;
  }

  async #rotate(toPath: string): Promise<void> {
    if ((await this.#fs.size(toPath)) !== undefined) {
      throw new Error(`Cannot rotate ${this.path} to ${toPath}: the file exists`);
    }
    this.#commit();
    this.#shut();
    this.#opening = undefined;
    try {
      await this.#fs.rename(this.path, toPath);
    } finally {
      // Reopened whether or not the rename worked: a failed rename keeps the rows in the live file.
      await this.open();
    }
  }

  /** Folds the WAL into the file and closes it. Calling it twice is harmless. */
  async close(): Promise<void> {
    if (this.#closed) return;
    while (this.#rotating) await this.#rotating;
    await this.#opening?.catch(() => {});
    this.#closed = true;
    try {
      this.#commit();
    } finally {
      this.#shut();
    }
  }

  #shut(): void {
    const db = this.#db;
    if (!db) return;
    this.#inserter?.free();
    try {
      db.run("PRAGMA wal_checkpoint(TRUNCATE)");
    } finally {
      db.close();
      this.#db = undefined;
      this.#inserter = undefined;
    }
  }
}
