/**
 * The native SQLite engine (`sqlite_engine: native`): the database file
 * itself, in WAL mode, written one transaction per batch with prepared
 * statements. Rows are in the file (its `-wal`) when the batch commits, so a
 * `sqlite3` shell sees them at once and a `kill -9` loses nothing committed;
 * nothing is exported, so segments need no size cap beyond `--rotate-size`.
 * The runtime opens the database (`node:sqlite`), so this file has no runtime
 * import.
 */
import { describeError } from "../shared/describe-error.ts";
import { UnavailableError } from "../shared/errors.ts";
import type { CaptureRecord } from "../shared/record.ts";
import type { OpenNativeDatabase, SqlDatabase } from "./sql-database.ts";
import type { SqliteSegment } from "./sqlite-segment.ts";
import { insertBatch, RecordInserter } from "./sqlite-inserter.ts";
import { applySchema } from "./sqlite-schema.ts";
import type { SinkFileSystem } from "./types.ts";

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

  constructor(path: string, fs: SinkFileSystem, openDatabase: OpenNativeDatabase) {
    this.path = path;
    this.name = `sqlite ${path}`;
    this.#fs = fs;
    this.#openDatabase = openDatabase;
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

  /** Inserts the batch in one transaction; a record that fails does not stop the others. */
  async writeBatch(records: readonly CaptureRecord[]): Promise<void> {
    if (records.length === 0) return;
    // An interval rotation runs on its own timer: a batch arriving while the
    // file is closed and renamed waits for the fresh one.
    while (this.#rotating) await this.#rotating;
    if (this.#closed) throw new Error(`SQLite sink ${this.path} is closed`);
    if (!this.#inserter) await this.open();
    insertBatch(this.#db!, this.#inserter!, records, this.path);
  }

  /** Size of the database in bytes (`page_count * page_size`), 0 before it is open. */
  get approximateBytes(): number {
    const db = this.#db;
    if (!db) return 0;
    return Number(db.rows("PRAGMA page_count")[0]?.[0] ?? 0) * Number(db.rows("PRAGMA page_size")[0]?.[0] ?? 0);
  }

  /** Nothing to do: committed rows are in the file already. */
  async flush(): Promise<void> {}

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
    this.#shut();
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
