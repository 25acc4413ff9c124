import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { nodeFileSystem } from "../../../src/runtime/shared/fs.ts";
import type { CaptureRecord, CustomRecord, GrpcMessageRecord } from "../../../src/shared/record.ts";
import { SqliteSink } from "../../../src/sinks/sqlite-sink.ts";
import { captureFormat, readCaptureFile, readCaptureFiles } from "../../../src/traces/capture-files.ts";
import { readJsonl, type SkippedLine } from "../../../src/traces/jsonl-reader.ts";
import { closeFrameRecord, frameRecord, httpRecord, sseRecord } from "../sinks/sqlite-records.ts";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tapline-traces-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One record of every kind, with distinct timestamps one millisecond apart. */
function corpus(): CaptureRecord[] {
  const upgrade = httpRecord("/ws");
  const custom: CustomRecord = {
    type: "custom",
    v: 1,
    id: crypto.randomUUID(),
    route_name: "api",
    timestamp: "",
    plugin: "usage",
    connection_id: upgrade.id,
    data: { tokens: 42, nested: { list: [1, "two"] } },
  };
  const call = httpRecord("/test.Echo/Unary");
  call.request.trailers = { "X-Request-Sum": ["h2"] };
  call.response!.trailers = { "Grpc-Status": ["0"] };
  call.grpc = { service: "test.Echo", method: "Unary", status: 0 };
  const message: GrpcMessageRecord = {
    type: "grpc_message",
    v: 1,
    id: crypto.randomUUID(),
    route_name: "api",
    connection_id: call.id,
    timestamp: "",
    direction: "client_to_server",
    seq: 0,
    t_delta_ms: 0.5,
    compressed: false,
    payload_size: 7,
    payload: "",
    payload_base64: true,
    payload_json: { text: "[REDACTED:email]" },
    payload_redacted: true,
  };
  const gzipped = httpRecord("/gz");
  gzipped.response!.body_decoded = "decoded text";
  gzipped.response!.body_decoded_truncated = true;
  const records: CaptureRecord[] = [
    httpRecord("/text?q=1"),
    gzipped,
    httpRecord("/binary", { binary: true }),
    httpRecord("/refused", { noResponse: true }),
    upgrade,
    frameRecord(upgrade.id),
    frameRecord(upgrade.id, true),
    closeFrameRecord(upgrade.id),
    sseRecord(upgrade.id, 1),
    custom,
    call,
    message,
  ];
  const start = Date.parse("2026-12-03T10:00:00.000Z");
  records.forEach((record, i) => (record.timestamp = new Date(start + i).toISOString()));
  return records;
}

async function all(file: string): Promise<CaptureRecord[]> {
  const out: CaptureRecord[] = [];
  for await (const { record } of readCaptureFile(nodeFileSystem, file)) out.push(record);
  return out;
}

test("a JSONL file reads back record for record, with each line's offset and number", async () => {
  const records = corpus();
  const file = join(dir, "all.jsonl");
  await writeFile(file, records.map((r) => JSON.stringify(r) + "\n").join(""));
  assert.equal(await captureFormat(nodeFileSystem, file), "jsonl");
  const read = [];
  for await (const item of readJsonl(nodeFileSystem, file)) read.push(item);
  assert.deepEqual(read.map((r) => r.record), records);
  let offset = 0;
  read.forEach((item, i) => {
    assert.equal(item.line, i + 1);
    assert.equal(item.offset, offset);
    offset += Buffer.byteLength(JSON.stringify(records[i]) + "\n");
  });
});

test("a SQLite file reads back the records it was written from, all tables merged in time order", async () => {
  const records = corpus();
  const file = join(dir, "all.db");
  const sink = new SqliteSink(file, nodeFileSystem, { flushIntervalMs: 0 });
  await sink.open();
  // Written in reverse: the reader orders by timestamp, not by insertion.
  await sink.writeBatch([...records].reverse());
  await sink.close();
  assert.equal(await captureFormat(nodeFileSystem, file), "sqlite");
  assert.deepEqual(await all(file), records);
});

test("lines longer than a read chunk, a bad line and a half-written last line", async () => {
  const big = httpRecord("/big");
  big.request.body = "x".repeat(3 * 1024 * 1024 + 17);
  const small = httpRecord("/small");
  const file = join(dir, "mixed.jsonl");
  await writeFile(
    file,
    JSON.stringify(small) + "\n" + "not json\n" + JSON.stringify(big) + "\n" + '["array"]\n' + JSON.stringify(small) +
      "\n" + '{"type":"http","id":"cut',
  );
  const skipped: SkippedLine[] = [];
  const progress: number[] = [];
  const read = [];
  for await (
    const item of readJsonl(nodeFileSystem, file, {
      onSkip: (s) => skipped.push(s),
      onProgress: (bytes) => progress.push(bytes),
    })
  ) read.push(item);
  assert.deepEqual(read.map((r) => (r.record.type === "http" ? r.record.request.url : "")), [
    "/small",
    "/big",
    "/small",
  ]);
  assert.deepEqual(read.map((r) => r.line), [1, 3, 5]);
  assert.deepEqual(skipped.map((s) => [s.line, s.reason.split(":")[0]]), [
    [2, "invalid JSON"],
    [4, "not a JSON object"],
    [6, "partially written last line (the writer stopped mid-line)"],
  ]);
  assert.ok(progress.length >= 4, "progress after each chunk of a 3 MiB file");
  assert.equal(progress.at(-1), (await nodeFileSystem.size(file))!);
});

test("several files read one after another; a missing file is a usage error naming it", async () => {
  const a = join(dir, "a.jsonl");
  const b = join(dir, "b.jsonl");
  await writeFile(a, JSON.stringify(httpRecord("/a")) + "\n");
  await writeFile(b, JSON.stringify(httpRecord("/b")) + "\n");
  const urls = [];
  for await (const { record, file } of readCaptureFiles(nodeFileSystem, [a, b])) {
    urls.push([file, record.type === "http" ? record.request.url : ""]);
  }
  assert.deepEqual(urls, [[a, "/a"], [b, "/b"]]);
  await assert.rejects(all(join(dir, "missing.jsonl")), /Capture file ".*missing\.jsonl" does not exist/);
});
