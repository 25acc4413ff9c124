/**
 * Loads sql.js (SQLite compiled to WebAssembly) once per process. The inline
 * build embeds the WebAssembly, so it works the same under Node, Deno (no
 * permissions needed), Bun and inside a `bun build --compile` binary.
 */
import initSqlJs from "sql.js/dist/sql-wasm-inline.js";
import type { Database, SqlJsStatic, SqlValue } from "sql.js";
import type { SqlCell, SqlDatabase, SqlRow } from "./sql-database.ts";

let loading: Promise<SqlJsStatic> | undefined;

/** The sql.js module, compiled and instantiated on the first call and shared afterwards. */
export function loadSqlJs(): Promise<SqlJsStatic> {
  // tsc types the import through sql-wasm-inline.d.ts, Deno from the JavaScript itself.
  const init = initSqlJs as () => Promise<SqlJsStatic>;
  loading ??= init().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** A sql.js database behind the SqlDatabase interface the schema and the inserts use. */
export function sqlJsDatabase(db: Database): SqlDatabase {
  return {
    run: (sql) => void db.run(sql),
    rows: (sql) => db.exec(sql)[0]?.values ?? [],
    prepare(sql) {
      const statement = db.prepare(sql);
      return { run: (values) => void statement.run(values as SqlValue[]), free: () => void statement.free() };
    },
    query: (sql, params) => queryRows(db, sql, params),
    close: () => db.close(),
  };
}

/** The rows of a parameterised query on a sql.js database. */
export function queryRows(db: Database, sql: string, params: readonly SqlCell[]): SqlRow[] {
  const statement = db.prepare(sql);
  try {
    statement.bind(params as SqlValue[]);
    const rows: SqlRow[] = [];
    while (statement.step()) rows.push(statement.getAsObject());
    return rows;
  } finally {
    statement.free();
  }
}
