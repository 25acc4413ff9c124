/**
 * Writes records through SqliteSink and prints the row counts of the file it
 * wrote, as JSON. Run directly by Deno and Bun (and compiled by `bun build
 * --compile`) from sqlite-sink.test.ts: `sqlite-driver.ts FILE N`.
 */
import process from "node:process";
import { nodeFileSystem } from "../../../src/runtime/shared/fs.ts";
import { loadSqlJs } from "../../../src/sinks/sql-js.ts";
import { SqliteSink } from "../../../src/sinks/sqlite-sink.ts";
import { frameRecord, httpRecord, sseRecord } from "./sqlite-records.ts";

const [path, countText] = process.argv.slice(2);
if (!path) throw new Error("Usage: sqlite-driver.ts FILE [N]");
const n = Number(countText ?? "5");
const sink = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 0 });
await sink.open();
const http = httpRecord("/driver", { binary: true });
for (let i = 0; i < n; i++) {
  await sink.writeBatch([
    i === 0 ? http : httpRecord(`/driver/${i}`),
    frameRecord(http.id, true),
    sseRecord(http.id, i),
  ]);
}
await sink.close();

const SQL = await loadSqlJs();
const db = new SQL.Database(await nodeFileSystem.readFile(path));
const count = (table: string) => Number(db.exec(`SELECT count(*) FROM ${table}`)[0]?.values[0]?.[0]);
const blob = db.exec("SELECT hex(resp_body) FROM http_entries WHERE req_url = '/driver'")[0]?.values[0]?.[0];
console.log(JSON.stringify({
  http_entries: count("http_entries"),
  websocket_frames: count("websocket_frames"),
  sse_events: count("sse_events"),
  binary_body_hex: blob,
}));
db.close();
