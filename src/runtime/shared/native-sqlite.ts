/**
 * The native SQLite engine through `node:sqlite`, which Node (22.13 and
 * later), Deno (2.2 and later) and Bun all provide. Loaded on first use, so
 * Node 20 runs everything else and gets a clear error only when the config
 * asks for `sqlite_engine: native`.
 */
import type { SqlCell, SqlDatabase } from "../../sinks/sql-database.ts";
import { UnavailableError } from "../../shared/errors.ts";

interface NodeStatement {
  run(...values: SqlCell[]): unknown;
  all(...values: SqlCell[]): Record<string, unknown>[];
}
interface NodeDatabase {
  exec(sql: string): void;
  prepare(sql: string): NodeStatement;
  close(): void;
}
type DatabaseSyncConstructor = new (path: string) => NodeDatabase;

let loading: Promise<DatabaseSyncConstructor> | undefined;

/** `Node 20.20.2`, `Deno 2.9.5`, `Bun 1.4.5`: for the error message. */
function runtimeLabel(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `Deno ${g.Deno.version.deno}`;
  if (g.Bun) return `Bun ${g.Bun.version}`;
  return `Node ${(globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node ?? "?"}`;
}

async function loadDatabaseSync(): Promise<DatabaseSyncConstructor> {
  try {
    // @ts-ignore: node:sqlite is in Node >= 22.13, Deno and Bun; @types/node 20 does not declare it.
    const module = (await import("node:sqlite")) as { DatabaseSync?: DatabaseSyncConstructor };
    if (typeof module.DatabaseSync !== "function") throw new Error("node:sqlite has no DatabaseSync");
    return module.DatabaseSync;
  } catch (error) {
    throw new UnavailableError(
      `sqlite_engine "native" needs node:sqlite (Node 22.13 or later, Deno 2.2 or later, or Bun), ` +
        `which ${runtimeLabel()} does not have (${(error as Error).message}); ` +
        `use sqlite_engine "sqljs" (the default, which runs everywhere)`,
      "sqlite_engine_unavailable",
    );
  }
}

/**
 * Opens `path` with the native engine, creating it when missing.
 *
 * @throws UnavailableError when the runtime has no node:sqlite.
 */
export async function openNativeSqlite(path: string): Promise<SqlDatabase> {
  loading ??= loadDatabaseSync().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  const DatabaseSync = await loading;
  const db = new DatabaseSync(path);
  return {
    run: (sql) => db.exec(sql),
    rows: (sql) => db.prepare(sql).all().map((row) => Object.values(row)),
    prepare(sql) {
      const statement = db.prepare(sql);
      return { run: (values) => void statement.run(...values), free: () => {} };
    },
    query: (sql, params) => db.prepare(sql).all(...params),
    close: () => db.close(),
  };
}
