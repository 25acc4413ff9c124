/** Inserting captured records into the SQLite table of their type. */
import type { CaptureRecord } from "../shared/record.ts";
import { describeError } from "../shared/describe-error.ts";
import {
  type ColumnTable,
  CUSTOM_RECORDS,
  customRow,
  GRPC_MESSAGES,
  HTTP_ENTRIES,
  httpRow,
  rowOf,
  SSE_EVENTS,
  WEBSOCKET_FRAMES,
} from "./sqlite-columns.ts";
import type { SqlCell, SqlDatabase, SqlStatement } from "./sql-database.ts";

function prepareInsert(db: SqlDatabase, table: ColumnTable<never>): SqlStatement {
  const names = table.columns.map(([name]) => name).join(", ");
  const placeholders = table.columns.map(() => "?").join(", ");
  // OR IGNORE: a record written twice (reindex over a live file, a replayed
  // batch) keeps one row instead of failing its whole batch.
  return db.prepare(`INSERT OR IGNORE INTO ${table.name} (${names}) VALUES (${placeholders})`);
}

/** Prepared insert statements of one database, reused for every row. */
export class RecordInserter {
  readonly #http: SqlStatement;
  readonly #frame: SqlStatement;
  readonly #event: SqlStatement;
  readonly #grpc: SqlStatement;
  readonly #custom: SqlStatement;

  constructor(db: SqlDatabase) {
    this.#http = prepareInsert(db, HTTP_ENTRIES);
    this.#frame = prepareInsert(db, WEBSOCKET_FRAMES);
    this.#event = prepareInsert(db, SSE_EVENTS);
    this.#grpc = prepareInsert(db, GRPC_MESSAGES);
    this.#custom = prepareInsert(db, CUSTOM_RECORDS);
  }

  /** Inserts one record into the table of its type; unknown types go to `custom_records`. */
  insert(record: CaptureRecord): void {
    switch (record.type) {
      case "http":
        this.#http.run(httpRow(record) as SqlCell[]);
        return;
      case "websocket_frame":
        this.#frame.run(rowOf(WEBSOCKET_FRAMES, record) as SqlCell[]);
        return;
      case "sse_event":
        this.#event.run(rowOf(SSE_EVENTS, record) as SqlCell[]);
        return;
      case "grpc_message":
        this.#grpc.run(rowOf(GRPC_MESSAGES, record) as SqlCell[]);
        return;
      default:
        this.#custom.run(customRow(record) as SqlCell[]);
    }
  }

  /** Frees the statements; the database stays open. */
  free(): void {
    this.#http.free();
    this.#frame.free();
    this.#event.free();
    this.#grpc.free();
    this.#custom.free();
  }
}

/**
 * Inserts a batch in one transaction. A record that fails does not stop the
 * others; once the rest are committed, the call throws naming how many
 * failed. Returns how many were inserted.
 */
export function insertBatch(
  db: SqlDatabase,
  inserter: RecordInserter,
  records: readonly CaptureRecord[],
  path: string,
): number {
  let failed = 0;
  let firstError: unknown;
  db.run("BEGIN");
  try {
    for (const record of records) {
      try {
        inserter.insert(record);
      } catch (error) {
        failed++;
        firstError ??= error;
      }
    }
    db.run("COMMIT");
  } catch (error) {
    db.run("ROLLBACK");
    throw error;
  }
  if (failed > 0) {
    throw new InsertError(
      `Failed to insert ${failed} of ${records.length} records into ${path}: ${describeError(firstError)}`,
      records.length - failed,
      firstError,
    );
  }
  return records.length;
}

/** Some records of a batch failed; `inserted` others were committed. */
export class InsertError extends Error {
  readonly inserted: number;
  constructor(message: string, inserted: number, cause: unknown) {
    super(message, { cause });
    this.name = "InsertError";
    this.inserted = inserted;
  }
}
