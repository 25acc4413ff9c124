import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import { parquetReadObjects } from "hyparquet";
import { runExportCommand } from "../../../src/cli/export-command.ts";
import { nodeRuntime } from "../../../src/runtime/node.ts";
import type { CaptureRecord } from "../../../src/shared/record.ts";
import { parquetFile } from "../../../src/traces/parquet.ts";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tapline-parquet-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const BINARY = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

function records(): CaptureRecord[] {
  const base = { v: 1, route_name: "api", client_ip: "127.0.0.1:1", upstream: "http://127.0.0.1:3000" };
  return [
    {
      ...base,
      type: "http",
      id: "00000000-0000-4000-8000-000000000001",
      timestamp: "2026-12-03T10:00:00.000Z",
      duration_ms: 12.5,
      ttfb_request_ms: 0.5,
      ttfb_response_ms: 10,
      correlation_id: "req-1",
      request: {
        method: "POST",
        url: "/json",
        headers: { "content-type": ["application/json"] },
        body_size: 9,
        body: '{"a":"é"}',
      },
      response: { status: 201, status_text: "Created", headers: { "x-a": ["1", "2"] }, body_size: 2, body: "ok" },
      tags: { team: "core" },
    },
    {
      ...base,
      type: "http",
      id: "00000000-0000-4000-8000-000000000002",
      timestamp: "2026-12-03T10:00:01.000Z",
      duration_ms: 3,
      ttfb_request_ms: 0,
      ttfb_response_ms: 2,
      request: { method: "GET", url: "/bin", headers: {}, body_size: 0 },
      response: { status: 200, status_text: "OK", headers: {}, body_size: 8, body: base64(BINARY), body_base64: true },
    },
    {
      type: "sse_event",
      v: 1,
      id: "e1",
      route_name: "api",
      connection_id: "00000000-0000-4000-8000-000000000002",
      timestamp: "2026-12-03T10:00:02.000Z",
      t_delta_ms: 5,
      event: "tick",
      data: "hello",
    },
    {
      type: "custom",
      v: 1,
      id: "c1",
      route_name: "api",
      timestamp: "2026-12-03T10:00:03.000Z",
      plugin: "usage",
      data: { tokens: 42 },
    },
  ];
}

test("records become one flat row each; binary bodies round-trip as bytes", async () => {
  const file = parquetFile(records());
  const rows = await parquetReadObjects({ file: file.buffer as ArrayBuffer });
  assert.equal(rows.length, 4);
  const [json, bin, event, custom] = rows as Array<Record<string, unknown>>;
  assert.equal(json!["method"], "POST");
  assert.equal(json!["status"], 201);
  assert.equal(json!["request_body"], '{"a":"é"}');
  assert.deepEqual(JSON.parse(String(json!["response_headers"])), { "x-a": ["1", "2"] });
  assert.deepEqual(JSON.parse(String(json!["tags"])), { team: "core" });
  assert.equal(new Date(json!["timestamp"] as Date).toISOString(), "2026-12-03T10:00:00.000Z");
  // Read as raw bytes (hyparquet decodes byte arrays as UTF-8 text by default).
  const raw = await parquetReadObjects({
    file: file.buffer as ArrayBuffer,
    columns: ["response_body_bytes"],
    utf8: false,
  });
  assert.deepEqual([...(raw[1]!["response_body_bytes"] as Uint8Array)], [...BINARY]);
  assert.ok(bin!["response_body_bytes"] !== null);
  assert.equal(bin!["response_body"], null);
  assert.equal(event!["data"], "hello");
  assert.equal(custom!["data"], '{"tokens":42}');
});

test("DuckDB reads the export and the gzip JSONL it came from, with the same counts and values", async () => {
  const jsonl = records().map((r) => JSON.stringify(r)).join("\n") + "\n";
  const source = join(dir, "api.jsonl");
  await writeFile(source, jsonl);
  await writeFile(join(dir, "api.jsonl.gz"), gzipSync(jsonl));
  const out = join(dir, "api.parquet");
  const stderr: string[] = [];
  const runtime = {
    ...nodeRuntime,
    writeStderr: (text: string) => void stderr.push(text),
    stderrIsTerminal: () => false,
  };
  assert.equal(await runExportCommand(["--format", "parquet", "-o", out, source], runtime), 0);
  assert.match(stderr.join(""), /Exported 4 records to /);
  assert.ok((await readFile(out)).byteLength > 0);

  const duck = await (await DuckDBInstance.create(":memory:")).connect();
  const query = async (sql: string) => (await duck.runAndReadAll(sql)).getRowObjectsJson();
  const fromParquet = await query(
    `SELECT type, count(*) AS n, sum(status) AS statuses FROM read_parquet('${out}') GROUP BY type ORDER BY type`,
  );
  const fromJsonl = await query(
    `SELECT type, count(*) AS n, sum(response.status) AS statuses FROM read_json_auto('${join(dir, "api.jsonl.gz")}')
     GROUP BY type ORDER BY type`,
  );
  assert.deepEqual(fromParquet, fromJsonl);
  assert.deepEqual(fromParquet.map((r) => [r["type"], r["n"]]), [["custom", "1"], ["http", "2"], ["sse_event", "1"]]);
  const sample = await query(`SELECT url, duration_ms, octet_length(response_body_bytes) AS bytes
    FROM read_parquet('${out}') WHERE type = 'http' ORDER BY url`);
  assert.deepEqual(sample, [
    { url: "/bin", duration_ms: 3, bytes: "8" },
    { url: "/json", duration_ms: 12.5, bytes: null },
  ]);

  // The README's query over archived keys (Hive-style partitions), on a local copy of the layout.
  const partition = join(dir, "bucket", "tapline", "route=api", "date=2026-12-03", "hour=10");
  await mkdir(partition, { recursive: true });
  await writeFile(join(partition, "web-1-a1b2c3-20261203T101502.123Z-0.jsonl.gz"), gzipSync(jsonl));
  await writeFile(join(partition, "web-2-9f8e7d-20261203T101502.123Z-0.jsonl.gz"), gzipSync(jsonl));
  const perRoute = await query(`SELECT route, count(*) AS requests, avg(duration_ms) AS avg_ms,
      count(*) FILTER (WHERE response.status >= 500) AS errors
    FROM read_json_auto('${
    join(dir, "bucket", "tapline")
  }/route=*/date=2026-12-03/*/*.jsonl.gz', hive_partitioning = true)
    WHERE type = 'http'
    GROUP BY route`);
  assert.deepEqual(perRoute, [{ route: "api", requests: "4", avg_ms: 7.75, errors: "0" }]);
  duck.closeSync();
});

test("parquet needs -o: refused with the way to give it", async () => {
  await assert.rejects(runExportCommand(["--format", "parquet", join(dir, "api.jsonl")], nodeRuntime), {
    name: "UsageError",
    message: /--format parquet writes a binary file: give it with -o FILE/,
  });
});
