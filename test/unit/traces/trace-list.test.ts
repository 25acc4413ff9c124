import assert from "node:assert/strict";
import { appendFile, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { nodeFileSystem } from "../../../src/runtime/shared/fs.ts";
import type { HttpRecord } from "../../../src/shared/record.ts";
import { SqliteSink } from "../../../src/sinks/sqlite-sink.ts";
import { compileFilter } from "../../../src/traces/filter/filter.ts";
import { listTraces } from "../../../src/traces/trace-list.ts";
import { CursorError, decodeCursor, encodeCursor } from "../../../src/traces/trace-source.ts";
import { TraceStore } from "../../../src/traces/trace-store.ts";
import { traceDetail } from "../../../src/traces/trace-detail.ts";
import { frameRecord, httpRecord } from "../sinks/sqlite-records.ts";
import { GOOD_HTTP, malformedCorpus } from "../../fixtures/malformed-records.ts";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tapline-trace-list-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let clock = Date.parse("2026-12-03T10:00:00.000Z");
function record(url: string): HttpRecord {
  const r = httpRecord(url);
  r.timestamp = new Date(clock++).toISOString();
  return r;
}
const lines = (records: object[]) => records.map((r) => JSON.stringify(r) + "\n").join("");
const all = compileFilter("");

test("JSONL: pages newest first; the cursor survives the live file rotating and new records arriving", async () => {
  const live = join(dir, "api.jsonl");
  const first = Array.from({ length: 25 }, (_, i) => record(`/old/${i}`));
  await writeFile(live, lines(first));
  const store = new TraceStore(nodeFileSystem, { jsonl: [live], sqlite: [] });
  const page1 = await listTraces(store.sources(), { filter: all, bounds: {}, limit: 10 });
  assert.deepEqual(page1.traces.map((t) => t.url), Array.from({ length: 10 }, (_, i) => `/old/${24 - i}`));
  // The live file rotates (renamed, as the sink does) and a new one starts; records keep arriving.
  await rename(live, join(dir, "api-20261203T100000.000Z.jsonl"));
  await writeFile(live, lines([record("/new/0")]));
  await appendFile(live, lines([record("/new/1")]));
  const seen = page1.traces.map((t) => t.url);
  let cursor = page1.next_cursor;
  while (cursor !== null) {
    const page = await listTraces(store.sources(), { filter: all, bounds: {}, limit: 10, cursor });
    seen.push(...page.traces.map((t) => t.url!));
    cursor = page.next_cursor;
  }
  assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => `/old/${24 - i}`));
  // A fresh list starts at the new live file, then the rotated one.
  const fresh = await listTraces(store.sources(), { filter: all, bounds: {}, limit: 3 });
  assert.deepEqual(fresh.traces.map((t) => t.url), ["/new/1", "/new/0", "/old/24"]);
});

test("JSONL: a cursor into a file that is gone is refused with a clear message", async () => {
  const live = join(dir, "gone.jsonl");
  await writeFile(live, lines([record("/a"), record("/b"), record("/c")]));
  const store = new TraceStore(nodeFileSystem, { jsonl: [live], sqlite: [] });
  const page = await listTraces(store.sources(), { filter: all, bounds: {}, limit: 1 });
  await writeFile(live, lines([record("/other")]));
  await assert.rejects(
    listTraces(store.sources(), { filter: all, bounds: {}, limit: 1, cursor: page.next_cursor! }),
    (error: unknown) => error instanceof CursorError && /capture file is gone/.test(error.message),
  );
});

test("SQLite: the live database pages by (timestamp, id), bounds by route and time, and merges with JSONL", async () => {
  const sink = new SqliteSink(join(dir, "db.db"), nodeFileSystem, { flushIntervalMs: 0 });
  await sink.open();
  const records = Array.from({ length: 12 }, (_, i) => {
    const r = record(`/db/${i}`);
    if (i % 3 === 0) r.route_name = "other";
    return r;
  });
  const upgrade = records[5]!;
  upgrade.response!.status = 101;
  const frames = [frameRecord(upgrade.id), frameRecord(upgrade.id, true)];
  frames.forEach((f, i) => (f.timestamp = new Date(Date.parse(upgrade.timestamp) + i).toISOString()));
  await sink.writeBatch([...records, ...frames]);
  const jsonl = join(dir, "mixed.jsonl");
  await writeFile(jsonl, lines([record("/jsonl/newest")]));
  // Not flushed to the file: the live database is what is read.
  const store = new TraceStore(nodeFileSystem, { jsonl: [jsonl], sqlite: [sink] });
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listTraces(store.sources(), {
      filter: all,
      bounds: {},
      limit: 5,
      ...(cursor ? { cursor } : {}),
    });
    seen.push(...page.traces.map((t) => t.url!));
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  assert.deepEqual(seen, ["/jsonl/newest", ...Array.from({ length: 12 }, (_, i) => `/db/${11 - i}`)]);
  const bounded = await listTraces(store.sources(), {
    filter: compileFilter("~t http"),
    bounds: { route: "other", since: records[3]!.timestamp, until: records[9]!.timestamp },
    limit: 50,
  });
  assert.deepEqual(bounded.traces.map((t) => t.url), ["/db/9", "/db/6", "/db/3"]);
  const detail = await traceDetail(store.sources(), upgrade.id, { offset: 0, limit: 1 });
  assert.equal(detail!.record.id, upgrade.id);
  assert.equal(detail!.frames.total, 2);
  assert.equal(detail!.frames.items.length, 1);
  assert.equal(detail!.frames.next_offset, 1);
  assert.deepEqual(detail!.frames.items[0], frames[0]);
  await sink.close();
});

test("cursors are opaque and checked: tampered text is refused, not trusted", () => {
  const cursor = encodeCursor({ j0: { f: "api.jsonl", o: 10, h: "x" }, s0h: null });
  assert.deepEqual(decodeCursor(cursor), { j0: { f: "api.jsonl", o: 10, h: "x" }, s0h: null });
  for (const bad of ["", "!!", "a".repeat(9000), encodeCursor({ j0: { f: ["x"] } } as never), btoa("{}")]) {
    assert.throws(() => decodeCursor(bad), CursorError, bad.slice(0, 20));
  }
});

test("JSONL: wrong-shaped records are passed over by the list, the detail and filters, never thrown on", async () => {
  const file = join(dir, "malformed.jsonl");
  await writeFile(file, malformedCorpus().text);
  const store = new TraceStore(nodeFileSystem, { jsonl: [file], sqlite: [] });
  for (const text of ["", "~u good", "~h host", "!~b zzz", "~t http"]) {
    const page = await listTraces(store.sources(), { filter: compileFilter(text), bounds: {}, limit: 50 });
    assert.deepEqual(page.traces.map((t) => t.url).sort(), ["/good", "/good2"], text);
  }
  assert.equal(await traceDetail(store.sources(), "bad-1", { offset: 0, limit: 10 }), undefined);
  const good = await traceDetail(store.sources(), GOOD_HTTP.id, { offset: 0, limit: 10 });
  assert.equal(good?.record.id, GOOD_HTTP.id);
});

test("JSONL: a live file missing for a moment (renamed by a rotation) is read as empty, never an error", async () => {
  const sub = join(dir, "rotating");
  await mkdir(sub, { recursive: true });
  const live = join(sub, "api.jsonl");
  // Only a rotated file: the live one was just renamed and not created again yet.
  await writeFile(join(sub, "api-20261203T100000.000Z.jsonl"), lines([record("/rotated")]));
  const store = new TraceStore(nodeFileSystem, { jsonl: [live], sqlite: [] });
  const page = await listTraces(store.sources(), { filter: all, bounds: {}, limit: 10 });
  assert.deepEqual(page.traces.map((t) => t.url), ["/rotated"]);
});
