/**
 * The few things the SQLite schema and inserts need from a database, so the
 * same code drives sql.js (in memory, the default that runs everywhere) and
 * a native engine (`node:sqlite`, file-backed; src/runtime/shared/native-sqlite.ts).
 */

/** A cell value: what both engines bind. */
export type SqlCell = string | number | Uint8Array | null;

/** A row as column name → value. */
export type SqlRow = Record<string, unknown>;

/** A prepared statement, run many times. */
export interface SqlStatement {
  run(values: readonly SqlCell[]): void;
  free(): void;
}

/** A database connection. */
export interface SqlDatabase {
  /** Runs statements that return nothing (DDL, PRAGMA, BEGIN/COMMIT). */
  run(sql: string): void;
  /** The rows of a query, each as an array of its column values. */
  rows(sql: string): unknown[][];
  prepare(sql: string): SqlStatement;
  /** The rows of a query with bound parameters, each as column name → value (BLOBs as Uint8Array). */
  query(sql: string, params: readonly SqlCell[]): SqlRow[];
  close(): void;
}

/** Opens a native SQLite database file (created when missing). */
export type OpenNativeDatabase = (path: string) => Promise<SqlDatabase>;
