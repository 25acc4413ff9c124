/**
 * Traces of a live SQLite capture database, read through the sink that
 * writes it, so rows are there as soon as they are captured (sql.js keeps
 * them in memory until its next flush). Newest first by (timestamp, id), on
 * the timestamp index; a position is the (timestamp, id) to resume at. Values
 * from a request (cursor, route, times, ids) are always bound, never spliced
 * into SQL.
 */
import type { SqlCell, SqlRow } from "../sinks/sql-database.ts";
import type { CaptureRecord } from "../shared/record.ts";
import { HTTP_COLUMNS } from "../sinks/sqlite-columns.ts";
import { RECORD_TABLES, recordOfRow, type RecordTable } from "./sqlite-records.ts";
import {
  CursorError,
  type PositionedRecord,
  type SourceBounds,
  type SourcePosition,
  type TraceSource,
} from "./trace-source.ts";

/** The live database: the sink's read access. */
export interface LiveDatabase {
  readonly path: string;
  /** Rows of one query; a database written in the capture thread answers through it, asynchronously. */
  query(sql: string, params: readonly SqlCell[]): SqlRow[] | Promise<SqlRow[]>;
}

/** Rows fetched per query while listing. */
const PAGE_ROWS = 200;
/** Columns that hold bodies: left out of list queries unless the filter reads bodies. */
const BODY_COLUMNS = new Set(["req_body", "resp_body", "req_body_decoded", "resp_body_decoded"]);

/** Adds the bounds to a query's WHERE terms, values bound. */
function boundsClause(bounds: SourceBounds, where: string[], params: SqlCell[]): void {
  if (bounds.route !== undefined) {
    where.push("route_name = ?");
    params.push(bounds.route);
  }
  if (bounds.since !== undefined) {
    where.push("timestamp >= ?");
    params.push(bounds.since);
  }
  if (bounds.until !== undefined) {
    where.push("timestamp <= ?");
    params.push(bounds.until);
  }
}

/** The trace table of a source: exchanges, or custom records that belong to no exchange. */
type TraceTable = "http_entries" | "custom_records";

/** One table of traces of a live SQLite database. */
export class SqliteTraceSource implements TraceSource {
  readonly key: string;
  readonly #db: LiveDatabase;
  readonly #table: TraceTable;
  readonly #columns: string;

  /**
   * @param key the source's name in cursors (not the path: cursors should not reveal server paths)
   * @param withBodies select body columns while listing (a filter with ~b needs them)
   */
  constructor(db: LiveDatabase, table: TraceTable, key: string, withBodies: boolean) {
    this.#db = db;
    this.#table = table;
    this.key = key;
    this.#columns = table === "http_entries" && !withBodies
      ? HTTP_COLUMNS.map(([name]) => name).filter((name) => !BODY_COLUMNS.has(name)).join(", ")
      : "*";
  }

  async *newest(from: SourcePosition | undefined, bounds: SourceBounds): AsyncGenerator<PositionedRecord> {
    let t: string | undefined;
    let id: string | undefined;
    let inclusive = true;
    if (from !== undefined) {
      if (typeof from["t"] !== "string" || typeof from["id"] !== "string") {
        throw new CursorError("The cursor is malformed");
      }
      t = from["t"];
      id = from["id"];
    }
    for (;;) {
      const where: string[] = [];
      const params: SqlCell[] = [];
      if (t !== undefined && id !== undefined) {
        // The range term first, so the timestamp index serves it (an OR over both columns made a full scan).
        where.push(`timestamp <= ? AND (timestamp < ? OR id ${inclusive ? "<=" : "<"} ?)`);
        params.push(t, t, id);
      }
      if (this.#table === "custom_records") where.push("connection_id IS NULL");
      boundsClause(bounds, where, params);
      const rows = await this.#db.query(
        `SELECT ${this.#columns} FROM ${this.#table}${where.length ? ` WHERE ${where.join(" AND ")}` : ""}` +
          ` ORDER BY timestamp DESC, id DESC LIMIT ${PAGE_ROWS}`,
        params,
      );
      for (const row of rows) {
        const record = recordOfRow(this.#table as RecordTable, row);
        yield { record, position: { t: String(row["timestamp"]), id: String(row["id"]) } };
      }
      if (rows.length < PAGE_ROWS) return;
      const last = rows[rows.length - 1]!;
      t = String(last["timestamp"]);
      id = String(last["id"]);
      inclusive = false;
    }
  }

  /** Every record of the database (the http source reads all four tables, merged by time), oldest first. */
  async *oldest(bounds: SourceBounds): AsyncGenerator<CaptureRecord> {
    if (this.#table !== "http_entries") return;
    const cursors = RECORD_TABLES.map((table) => ({
      table,
      rows: [] as SqlRow[],
      after: undefined as [string, number] | undefined,
      done: false,
    }));
    const fill = async (cursor: typeof cursors[number]) => {
      if (cursor.rows.length > 0 || cursor.done) return;
      const where: string[] = [];
      const params: SqlCell[] = [];
      if (cursor.after) {
        where.push("timestamp >= ? AND (timestamp > ? OR rowid > ?)");
        params.push(cursor.after[0], cursor.after[0], cursor.after[1]);
      }
      boundsClause(bounds, where, params);
      cursor.rows = await this.#db.query(
        `SELECT rowid AS _rowid, * FROM ${cursor.table}${where.length ? ` WHERE ${where.join(" AND ")}` : ""}` +
          ` ORDER BY timestamp, rowid LIMIT ${PAGE_ROWS}`,
        params,
      );
      if (cursor.rows.length < PAGE_ROWS) cursor.done = true;
      const last = cursor.rows.at(-1);
      if (last) cursor.after = [String(last["timestamp"]), Number(last["_rowid"])];
    };
    for (;;) {
      let next: typeof cursors[number] | undefined;
      for (const cursor of cursors) {
        await fill(cursor);
        const row = cursor.rows[0];
        if (row === undefined) continue;
        if (next === undefined || String(row["timestamp"]) < String(next.rows[0]!["timestamp"])) next = cursor;
      }
      if (next === undefined) return;
      yield recordOfRow(next.table, next.rows.shift()!);
    }
  }

  async find(id: string): Promise<CaptureRecord | undefined> {
    if (this.#table !== "http_entries") return undefined;
    for (
      const table of ["http_entries", "custom_records", "websocket_frames", "sse_events", "grpc_messages"] as const
    ) {
      const row = (await this.#db.query(`SELECT * FROM ${table} WHERE id = ?`, [id]))[0];
      if (row) return recordOfRow(table, row);
    }
    return undefined;
  }

  async *related(connectionId: string): AsyncGenerator<CaptureRecord> {
    if (this.#table !== "http_entries") return;
    const records: CaptureRecord[] = [];
    for (const table of ["websocket_frames", "sse_events", "grpc_messages", "custom_records"] as const) {
      for (
        const row of await this.#db.query(`SELECT * FROM ${table} WHERE connection_id = ? ORDER BY timestamp, rowid`, [
          connectionId,
        ])
      ) {
        records.push(recordOfRow(table, row));
      }
    }
    yield* records.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
  }
}
