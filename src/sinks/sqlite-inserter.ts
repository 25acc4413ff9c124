/** Inserting captured records into the SQLite table of their type. */
import type { CaptureRecord } from "../shared/record.ts";
import {
  type ColumnTable,
  CUSTOM_RECORDS,
  customRow,
  HTTP_ENTRIES,
  httpRow,
  rowOf,
  SSE_EVENTS,
  WEBSOCKET_FRAMES,
} from "./sqlite-columns.ts";
import type { Database, Statement } from "sql.js";

function prepareInsert(db: Database, table: ColumnTable<never>): Statement {
  const names = table.columns.map(([name]) => name).join(", ");
  const placeholders = table.columns.map(() => "?").join(", ");
  // OR IGNORE: a record written twice (reindex over a live file, a replayed
  // batch) keeps one row instead of failing its whole batch.
  return db.prepare(`INSERT OR IGNORE INTO ${table.name} (${names}) VALUES (${placeholders})`);
}

/** Prepared insert statements of one database, reused for every row. */
export class RecordInserter {
  readonly #http: Statement;
  readonly #frame: Statement;
  readonly #event: Statement;
  readonly #custom: Statement;

  constructor(db: Database) {
    this.#http = prepareInsert(db, HTTP_ENTRIES);
    this.#frame = prepareInsert(db, WEBSOCKET_FRAMES);
    this.#event = prepareInsert(db, SSE_EVENTS);
    this.#custom = prepareInsert(db, CUSTOM_RECORDS);
  }

  /** Inserts one record into the table of its type; unknown types go to `custom_records`. */
  insert(record: CaptureRecord): void {
    switch (record.type) {
      case "http":
        this.#http.run(httpRow(record));
        return;
      case "websocket_frame":
        this.#frame.run(rowOf(WEBSOCKET_FRAMES, record));
        return;
      case "sse_event":
        this.#event.run(rowOf(SSE_EVENTS, record));
        return;
      default:
        this.#custom.run(customRow(record));
    }
  }

  /** Frees the statements; the database stays open. */
  free(): void {
    this.#http.free();
    this.#frame.free();
    this.#event.free();
    this.#custom.free();
  }
}
