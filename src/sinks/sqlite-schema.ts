/**
 * Creating and upgrading the SQLite layout of captured records in a database:
 * the tables (from their column lists in `sqlite-columns.ts`), their indexes,
 * and the layout version.
 */
import {
  type ColumnTable,
  CUSTOM_RECORDS,
  GRPC_MESSAGES,
  HTTP_ENTRIES,
  SSE_EVENTS,
  WEBSOCKET_FRAMES,
} from "./sqlite-columns.ts";
import type { SqlDatabase } from "./sql-database.ts";

/** Bumped when the layout changes; stored in `PRAGMA user_version`. */
export const SQLITE_SCHEMA_VERSION = 6;

/** An index: its name and the one column it covers. */
type Index = readonly [name: string, column: string];

/** Every table with its indexes, in creation order. */
export const TABLES: readonly { table: ColumnTable<never>; indexes: readonly Index[] }[] = [
  {
    table: HTTP_ENTRIES,
    indexes: [
      ["idx_http_timestamp", "timestamp"],
      ["idx_http_route", "route_name"],
      ["idx_http_method", "req_method"],
      ["idx_http_status", "resp_status"],
      ["idx_http_url", "req_url"],
      ["idx_http_content_type", "resp_content_type"],
      ["idx_http_req_content_type", "req_content_type"],
      ["idx_http_correlation", "correlation_id"],
      ["idx_http_grpc_status", "grpc_status"],
    ],
  },
  {
    table: WEBSOCKET_FRAMES,
    indexes: [
      ["idx_ws_timestamp", "timestamp"],
      ["idx_ws_route", "route_name"],
      ["idx_ws_connection", "connection_id"],
      ["idx_ws_opcode", "opcode"],
    ],
  },
  {
    table: SSE_EVENTS,
    indexes: [
      ["idx_sse_timestamp", "timestamp"],
      ["idx_sse_route", "route_name"],
      ["idx_sse_connection", "connection_id"],
    ],
  },
  {
    table: GRPC_MESSAGES,
    indexes: [
      ["idx_grpc_timestamp", "timestamp"],
      ["idx_grpc_route", "route_name"],
      ["idx_grpc_connection", "connection_id"],
    ],
  },
  {
    table: CUSTOM_RECORDS,
    indexes: [
      ["idx_custom_timestamp", "timestamp"],
      ["idx_custom_route", "route_name"],
      ["idx_custom_plugin", "plugin"],
    ],
  },
];

/** The `CREATE TABLE IF NOT EXISTS` statement of a table, every column with its declared type. */
function createTableSql(table: ColumnTable<never>): string {
  const defs = table.columns.map(([name, type]) => `${name} ${type}`).join(", ");
  return `CREATE TABLE IF NOT EXISTS ${table.name} (${defs})`;
}

/**
 * Creates the tables and indexes that are missing. A table that exists with
 * fewer columns (a database written by http-tap-proxy or an older tapline)
 * gains the missing ones, so appending to it works.
 */
export function applySchema(db: SqlDatabase): void {
  for (const { table, indexes } of TABLES) {
    db.run(createTableSql(table));
    const present = new Set<string>();
    for (const row of db.rows(`PRAGMA table_info(${table.name})`)) present.add(String(row[1]));
    for (const [name, type] of table.columns) {
      // ALTER TABLE cannot add a PRIMARY KEY or NOT NULL column without a default.
      if (!present.has(name)) db.run(`ALTER TABLE ${table.name} ADD COLUMN ${name} ${type.split(" ")[0]}`);
    }
    for (const [index, column] of indexes) {
      db.run(`CREATE INDEX IF NOT EXISTS ${index} ON ${table.name}(${column})`);
    }
  }
  const version = Number(db.rows("PRAGMA user_version")[0]?.[0] ?? 0);
  if (version < SQLITE_SCHEMA_VERSION) db.run(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION}`);
}
