import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatBytes,
  formatSummary,
  InspectAccumulator,
  MAX_DISTINCT_PATHS,
  safe,
} from "../../../src/traces/inspect.ts";
import { closeFrameRecord, frameRecord, httpRecord, sseRecord } from "../sinks/sqlite-records.ts";

test("a summary counts types, routes, status classes, paths, latency, bytes and problems", () => {
  const acc = new InspectAccumulator();
  acc.file("a.jsonl", "jsonl");
  for (let i = 1; i <= 100; i++) {
    const record = httpRecord(i % 4 === 0 ? `/b?i=${i}` : `/a?i=${i}`);
    record.duration_ms = i;
    record.timestamp = new Date(Date.UTC(2026, 11, 3, 10, 0, i % 60)).toISOString();
    if (i % 10 === 0) record.response!.status = 503;
    acc.add(record);
  }
  acc.skip();
  acc.file("b.db", "sqlite");
  const failed = httpRecord("/c", { noResponse: true });
  failed.route_name = "web";
  failed.request.body_truncated = true;
  failed.timestamp = "2026-12-03T09:59:59.000Z";
  acc.add(failed);
  for (const record of [frameRecord("x"), closeFrameRecord("x"), sseRecord("y", 1)]) {
    record.timestamp = "2026-12-03T10:00:30.000Z";
    acc.add(record);
  }
  const s = acc.summary();
  assert.deepEqual(s.files, [
    { path: "a.jsonl", format: "jsonl", records: 100, skipped: 1 },
    { path: "b.db", format: "sqlite", records: 4, skipped: 0 },
  ]);
  assert.equal(s.records, 104);
  assert.equal(s.skipped, 1);
  assert.equal(s.first, "2026-12-03T09:59:59.000Z");
  assert.equal(s.last, "2026-12-03T10:00:59.000Z");
  assert.deepEqual(s.byType, { http: 101, websocket_frame: 2, sse_event: 1 });
  assert.deepEqual(s.byRoute, { api: 103, web: 1 });
  assert.deepEqual(s.byStatusClass, { "2xx": 90, "5xx": 10, none: 1 });
  assert.deepEqual(s.topPaths, [{ path: "/a", count: 75 }, { path: "/b", count: 25 }, { path: "/c", count: 1 }]);
  // Durations 1..100 and the failed exchange's 12.5.
  assert.deepEqual(s.latency, { p50: 50, p90: 90, p99: 99, max: 100 });
  assert.deepEqual(s.bytes, { request: 101 * 21, response: 100 * 19, frames: 5 + 6, events: 7 });
  assert.equal(s.errors, 1);
  assert.equal(s.truncatedBodies, 1);
  const text = formatSummary(s);
  assert.match(text, /^Files: 2 \(1 JSONL, 1 SQLite\), 104 records, 1 lines skipped$/m);
  assert.match(text, /^Status: 2xx 90 · 5xx 10 · none 1$/m);
  assert.match(text, /^Latency: p50 50\.0 ms · p90 90\.0 ms · p99 99\.0 ms · max 100\.0 ms$/m);
  assert.match(text, /^ {2}75 {2}\/a$/m);
});

test("distinct paths are bounded: past the cap new paths count as (other)", () => {
  const acc = new InspectAccumulator();
  for (let i = 0; i < MAX_DISTINCT_PATHS + 5; i++) acc.add(httpRecord(`/p${i}`));
  for (let i = 0; i < 9; i++) acc.add(httpRecord("/p0"));
  const top = acc.summary().topPaths;
  assert.deepEqual(top.slice(0, 2), [{ path: "/p0", count: 10 }, { path: "(other)", count: 5 }]);
  assert.equal(top.length, 10);
});

test("captured text is printed with control characters escaped, and bytes for people", () => {
  assert.equal(safe("/a\x1b[2J\nb"), "/a\\x1b[2J\\x0ab");
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(5 * 1024 * 1024), "5.0 MiB");
});
