/**
 * Reading tapline's SQLite captures with the stock `sqlite3` shell (never
 * sql.js), so a database that only tapline itself could open fails here.
 * Every query runs read-only with `-json` and a time limit.
 */
import { execFileSync, spawnSync } from "node:child_process";

/** The capture tables and the record type each one holds. */
export const TABLE_OF_TYPE = {
  http: "http_entries",
  websocket_frame: "websocket_frames",
  sse_event: "sse_events",
} as const;

export type CaptureTable = (typeof TABLE_OF_TYPE)[keyof typeof TABLE_OF_TYPE] | "custom_records";

export const CAPTURE_TABLES: readonly CaptureTable[] = [
  "http_entries",
  "websocket_frames",
  "sse_events",
  "custom_records",
];

let checked = false;

/** Fails with an install hint when the `sqlite3` shell is missing. */
export function requireSqlite3(): void {
  if (checked) return;
  const probe = spawnSync("sqlite3", ["-version"], { encoding: "utf8", timeout: 5_000 });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `The sqlite3 shell is needed to check SQLite captures but could not be run (${
        probe.error?.message ?? `exit ${probe.status}: ${probe.stderr}`
      }); install it, e.g. apt-get install sqlite3`,
    );
  }
  checked = true;
}

/** Rows of `sql` on `db` as objects (empty for no rows); throws with sqlite3's error text. */
export function query(db: string, sql: string): Array<Record<string, unknown>> {
  requireSqlite3();
  let out: string;
  try {
    out = execFileSync("sqlite3", ["-readonly", "-json", db, sql], {
      encoding: "utf8",
      timeout: 10_000,
      maxBuffer: 256 * 1024 * 1024,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`sqlite3 ${db} "${sql}" failed: ${e.stderr?.trim() || e.message}`);
  }
  if (out.trim() === "") return [];
  return JSON.parse(out) as Array<Record<string, unknown>>;
}

/** `PRAGMA integrity_check` is "ok": the file is a sound SQLite database for the stock shell. */
export function integrityOk(db: string): boolean {
  const rows = query(db, "PRAGMA integrity_check");
  return rows.length === 1 && rows[0]!["integrity_check"] === "ok";
}

/** Row count of each capture table. */
export function tableCounts(db: string): Record<CaptureTable, number> {
  const sql = "SELECT " + CAPTURE_TABLES.map((t) => `(SELECT count(*) FROM ${t}) AS ${t}`).join(", ");
  const row = query(db, sql)[0] ?? {};
  const out = {} as Record<CaptureTable, number>;
  for (const t of CAPTURE_TABLES) out[t] = Number(row[t]);
  return out;
}

/** The `id` column of a table, sorted. */
export function ids(db: string, table: CaptureTable): string[] {
  return query(db, `SELECT id FROM ${table} ORDER BY id`).map((r) => String(r["id"]));
}

/**
 * Every row of a table with every column rendered by `quote()` (BLOBs as
 * X'..', text quoted, NULL as NULL), ordered by id: for comparing two
 * databases cell by cell.
 */
export function quotedRows(db: string, table: CaptureTable): Array<Record<string, unknown>> {
  const columns = query(db, `PRAGMA table_info(${table})`).map((r) => String(r["name"]));
  if (columns.length === 0) throw new Error(`${db}: no table ${table}`);
  return query(db, `SELECT ${columns.map((c) => `quote(${c}) AS ${c}`).join(", ")} FROM ${table} ORDER BY id`);
}
