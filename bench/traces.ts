/**
 * Trace API reads against a large live SQLite capture: listing the newest 100
 * of 1,000,000 exchanges, with no filter, with a `~u` filter matching 10% and
 * 1% of them, and a `~b` filter (bodies loaded), through the same code the
 * admin API runs (listTraces over SqliteTraceSource). The database is built
 * with one `INSERT ... WITH RECURSIVE` through node:sqlite, so it needs a
 * runtime that has it (Deno, Bun, Node 22.13+):
 *
 *   node_modules/.bin/deno run -A bench/traces.ts [--records 1000000] [--json]
 *   node_modules/.bin/bun bench/traces.ts
 *
 * Each query runs 5 times after one warm-up; the best and the median are shown.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { openNativeSqlite } from "../src/runtime/shared/native-sqlite.ts";
import { applySchema } from "../src/sinks/sqlite-schema.ts";
import { compileFilter } from "../src/traces/filter/filter.ts";
import { SqliteTraceSource } from "../src/traces/sqlite-source.ts";
import { listTraces } from "../src/traces/trace-list.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { records: { type: "string", default: "1000000" }, json: { type: "boolean", default: false } },
});
const records = Number(values.records);
const dir = await mkdtemp(join(tmpdir(), "tapline-bench-traces-"));
const path = join(dir, "capture.db");

try {
  const db = await openNativeSqlite(path);
  applySchema(db);
  const started = performance.now();
  // One exchange a millisecond; a tenth of the URLs under /api/orders/, a hundredth under /api/refunds/.
  db.run(`
    INSERT INTO http_entries (id, route_name, timestamp, duration_ms, client_ip, req_method, req_url, req_headers,
      req_body_size, resp_status, resp_status_text, resp_headers, resp_body, resp_body_size, v, upstream,
      ttfb_request_ms, ttfb_response_ms, disconnected, req_body_truncated, resp_body_truncated)
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${records})
    SELECT printf('%08x-0000-4000-8000-%012x', i, i), 'api',
      strftime('%Y-%m-%dT%H:%M:%fZ', 1764756000 + i / 1000.0, 'unixepoch'), 1.5, '127.0.0.1:40000', 'GET',
      CASE WHEN i % 100 = 0 THEN '/api/refunds/' || i WHEN i % 10 = 0 THEN '/api/orders/' || i ELSE '/api/users/' || i END,
      '{"host":["127.0.0.1"],"user-agent":["wrk"]}', 0, 200, 'OK', '{"content-type":["application/json"]}',
      CAST(printf('{"n":%d,"pad":"%.200c"}', i, 'x') AS BLOB), 220, 1, 'http://127.0.0.1:18581', 0.1, 1.2, 0, 0, 0
    FROM n`);
  const buildMs = performance.now() - started;
  const live = { path, query: db.query };
  const source = (withBodies: boolean) => [new SqliteTraceSource(live, "http_entries", "s0h", withBodies)];
  const cases = [
    ["newest 100", ""],
    ["newest 100, ~u matching 10%", "~u ^/api/orders/"],
    ["newest 100, ~u matching 1%", "~u ^/api/refunds/"],
    ["newest 100, ~s 5xx (none match: one page's scan budget)", "~s 5xx"],
    ["newest 100, ~b matching 10% (bodies loaded)", '~b "\\"n\\":[0-9]*0,"'],
  ] as const;
  const results = [];
  for (const [name, text] of cases) {
    const filter = compileFilter(text);
    const times: number[] = [];
    let found = 0;
    let scanned = 0;
    for (let run = 0; run < 6; run++) {
      const t = performance.now();
      const page = await listTraces(source(filter.readsBodies), { filter, bounds: {}, limit: 100 });
      if (run > 0) times.push(performance.now() - t);
      found = page.traces.length;
      scanned = page.scanned;
    }
    times.sort((a, b) => a - b);
    results.push({ name, filter: text, found, scanned, bestMs: times[0]!, medianMs: times[2]! });
  }
  db.close();
  const runtime = (globalThis as { Deno?: unknown }).Deno
    ? "deno"
    : (globalThis as { Bun?: unknown }).Bun
    ? "bun"
    : "node";
  if (values.json) console.log(JSON.stringify({ runtime, records, buildMs, results }, null, 2));
  else {
    console.log(`${runtime}: ${records.toLocaleString("en-US")} exchanges built in ${(buildMs / 1000).toFixed(1)} s`);
    console.log("| query | traces | rows scanned | best ms | median ms |");
    console.log("| ----- | -----: | -----------: | ------: | --------: |");
    for (const r of results) {
      console.log(
        `| ${r.name} | ${r.found} | ${r.scanned.toLocaleString("en-US")} | ${r.bestMs.toFixed(1)} | ${
          r.medianMs.toFixed(1)
        } |`,
      );
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
