/**
 * Helpers of the plugin conformance suites: write plugin modules and a
 * tapline config (JSON, which is YAML) into a temp dir, read admin metrics,
 * and render a SQLite capture database as text so a test can assert that a
 * string never reached it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "./client.ts";
import { metricSamples } from "./plugin-upstream.ts";
import { CAPTURE_TABLES, query } from "./sqlite.ts";
import type { Tapline } from "./tapline.ts";

/** Write each `name -> source` plugin module into `dir`; returns `dir`. */
export function writePlugins(dir: string, plugins: Record<string, string>): string {
  for (const [name, source] of Object.entries(plugins)) writeFileSync(join(dir, name), source);
  return dir;
}

/** Write `config` as `<dir>/<name>` (JSON is valid YAML) and return its path. */
export function writeConfig(dir: string, name: string, config: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config, null, 2) + "\n");
  return file;
}

/** Flags for an admin port whose data directory (and so its generated admin token) is `<dir>/data`. */
export function adminArgs(dir: string): string[] {
  return ["--listen-admin", "127.0.0.1:0", "--data-dir", join(dir, "data")];
}

/** The admin token a tapline started with `adminArgs(dir)` generated. */
export function adminToken(dir: string): string {
  return readFileSync(join(dir, "data", "admin_token"), "utf8").trim();
}

/** The admin `/_metrics` text of a running tapline. */
export async function metricsText(tap: Tapline, timeoutMs = 5_000): Promise<string> {
  const res = await request(`http://127.0.0.1:${tap.adminPort()}/_metrics`, { timeoutMs });
  if (res.status !== 200) throw new Error(`GET /_metrics: status ${res.status}`);
  return res.body.toString("utf8");
}

/** One sample: `metric(text, "tapline_plugin_timeouts_total", "plugin=loop")`; undefined when absent. */
export function metric(text: string, name: string, labels = ""): number | undefined {
  return metricSamples(text, name).get(labels);
}

/** Sum of every sample of `name` whose label set contains `contains` (e.g. `reason=plugin`). */
export function metricSum(text: string, name: string, contains: string): number {
  let sum = 0;
  for (const [labels, value] of metricSamples(text, name)) {
    if (labels.split(",").includes(contains)) sum += value;
  }
  return sum;
}

/**
 * Every cell of every capture table of `db` cast to text, as one string (BLOB
 * bodies included): for asserting that a secret is nowhere in the database.
 */
export function databaseText(db: string): string {
  const parts: string[] = [];
  for (const table of CAPTURE_TABLES) {
    const columns = query(db, `PRAGMA table_info(${table})`).map((r) => String(r["name"]));
    if (columns.length === 0) continue;
    const rows = query(db, `SELECT ${columns.map((c) => `CAST(${c} AS TEXT) AS ${c}`).join(", ")} FROM ${table}`);
    parts.push(JSON.stringify(rows));
  }
  return parts.join("\n");
}
