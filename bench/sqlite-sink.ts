/**
 * SQLite sink (sql.js) cost: rows per second for small http records and for
 * WebSocket frames, and the cost of a flush (export + atomic write) at about
 * 10 MB and 100 MB. Runs under Node (after tsc), Deno and Bun:
 *
 *   node dist/bench/sqlite-sink.js [DIR]
 *   node_modules/.bin/deno run -A bench/sqlite-sink.ts [DIR]
 *   node_modules/.bin/bun bench/sqlite-sink.ts [DIR]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { HttpRecord, WebSocketFrameRecord } from "../src/shared/record.ts";
import { nodeFileSystem } from "../src/runtime/shared/fs.ts";
import { SqliteSink } from "../src/sinks/sqlite-sink.ts";
import type { SinkFileSystem } from "../src/sinks/types.ts";
import { bodyText } from "./bodies.ts";

const BATCH = 256;
const body = bodyText(1024);

function http(i: number): HttpRecord {
  return {
    type: "http",
    v: 1,
    id: crypto.randomUUID(),
    route_name: "api",
    timestamp: new Date().toISOString(),
    duration_ms: 1.2,
    ttfb_request_ms: 0.1,
    ttfb_response_ms: 0.9,
    client_ip: "127.0.0.1:40000",
    upstream: "http://127.0.0.1:9000",
    request: {
      method: "GET",
      url: `/api/items/${i}?q=1`,
      headers: {
        Host: ["127.0.0.1:8080"],
        "User-Agent": ["wrk"],
        Accept: ["*/*"],
        "Accept-Encoding": ["gzip"],
        Connection: ["keep-alive"],
      },
      body_size: 0,
    },
    response: {
      status: 200,
      status_text: "OK",
      headers: {
        "Content-Type": ["text/plain"],
        "Content-Length": ["1024"],
        Date: ["Mon, 01 Jan 2025 00:00:00 GMT"],
        Etag: ['"abc"'],
      },
      body,
      body_size: 1024,
    },
  };
}

function frame(connection: string): WebSocketFrameRecord {
  return {
    type: "websocket_frame",
    v: 1,
    id: crypto.randomUUID(),
    route_name: "api",
    connection_id: connection,
    timestamp: new Date().toISOString(),
    direction: "client_to_server",
    opcode: 1,
    opcode_name: "text",
    payload: '{"type":"tick","seq":12345,"value":0.5}',
    payload_size: 39,
  };
}

/** Rows per second writing `total` records in batches of BATCH (records built beforehand). */
async function insertRate(sink: SqliteSink, make: (i: number) => HttpRecord | WebSocketFrameRecord, total: number) {
  const batches = [];
  for (let i = 0; i < total; i += BATCH) batches.push(Array.from({ length: BATCH }, (_, j) => make(i + j)));
  const start = performance.now();
  for (const batch of batches) await sink.writeBatch(batch);
  const seconds = (performance.now() - start) / 1000;
  return Math.round((batches.length * BATCH) / seconds);
}

/** Grows the database to `bytes`, then times one flush, split into export and file write. */
async function flushCost(dir: string, bytes: number) {
  let writeMs = 0;
  const fs: SinkFileSystem = {
    ...nodeFileSystem,
    async writeFileAtomic(path, data) {
      const start = performance.now();
      await nodeFileSystem.writeFileAtomic(path, data);
      writeMs = performance.now() - start;
    },
  };
  const sink = new SqliteSink(join(dir, `flush-${bytes}.db`), fs, { flushIntervalMs: 0 });
  await sink.open();
  let i = 0;
  while (sink.approximateBytes < bytes) {
    await sink.writeBatch(Array.from({ length: BATCH }, () => http(i++)));
  }
  const rssBefore = process.memoryUsage().rss;
  const start = performance.now();
  await sink.flush();
  const totalMs = performance.now() - start;
  const rssAfter = process.memoryUsage().rss;
  const size = sink.approximateBytes;
  await sink.close();
  return {
    db_mb: +(size / 1e6).toFixed(1),
    rows: i,
    flush_ms: Math.round(totalMs),
    export_ms: Math.round(totalMs - writeMs),
    write_ms: Math.round(writeMs),
    rss_growth_mb: Math.round((rssAfter - rssBefore) / 1e6),
  };
}

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const dir = process.argv[2] ?? (await mkdtemp(join(tmpdir(), "tapline-sqlite-bench-")));
try {
  const sink = new SqliteSink(join(dir, "rate.db"), nodeFileSystem, { flushIntervalMs: 0 });
  await sink.open();
  await insertRate(sink, http, 5_000); // warm-up
  const httpRate = await insertRate(sink, http, 50_000);
  const frameRate = await insertRate(sink, () => frame("conn-1"), 200_000);
  await sink.close();
  console.log(JSON.stringify({ runtime, batch: BATCH, http_rows_per_s: httpRate, frame_rows_per_s: frameRate }));
  console.log(JSON.stringify({ runtime, ...(await flushCost(dir, 10e6)) }));
  console.log(JSON.stringify({ runtime, ...(await flushCost(dir, 100e6)) }));
} finally {
  if (!process.argv[2]) await rm(dir, { recursive: true, force: true });
}
