import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { HttpRecord } from "../../../src/capture/record.ts";
import { nodeFileSystem } from "../../../src/runtime/shared/fs.ts";
import { JsonlSink } from "../../../src/sinks/jsonl.ts";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tapline-jsonl-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function record(url: string, body?: string): HttpRecord {
  return {
    type: "http",
    v: 1,
    id: crypto.randomUUID(),
    route_name: "api",
    timestamp: new Date().toISOString(),
    duration_ms: 1,
    ttfb_request_ms: 0.5,
    ttfb_response_ms: 0.7,
    client_ip: "127.0.0.1:1",
    upstream: "http://127.0.0.1:9000",
    request: { method: "GET", url, headers: {}, body_size: body?.length ?? 0, ...(body ? { body } : {}) },
  };
}

async function lines(path: string): Promise<HttpRecord[]> {
  const text = await readFile(path, "utf8");
  assert.ok(text === "" || text.endsWith("\n"), "the file ends with a newline");
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as HttpRecord);
}

test("records are written one JSON object per line and batches append", async () => {
  const path = join(dir, "basic", "api.jsonl");
  const sink = new JsonlSink(path, nodeFileSystem);
  assert.equal(sink.name, `jsonl ${path}`);
  const first = [record("/1", "line one\nline two"), record("/2")];
  await sink.writeBatch(first);
  await sink.writeBatch([record("/3", 'quote " and \u2028 separator')]);
  await sink.writeBatch([]);
  await sink.close();
  const written = await lines(path);
  assert.deepEqual(written.map((r) => r.request.url), ["/1", "/2", "/3"]);
  assert.deepEqual(written[0], first[0]);
  assert.equal(written[2]!.request.body, 'quote " and \u2028 separator');
});

test("a new sink on an existing file appends instead of truncating", async () => {
  const path = join(dir, "append.jsonl");
  const one = new JsonlSink(path, nodeFileSystem);
  await one.writeBatch([record("/a")]);
  await one.close();
  const two = new JsonlSink(path, nodeFileSystem);
  await two.writeBatch([record("/b"), record("/c")]);
  await two.close();
  assert.deepEqual((await lines(path)).map((r) => r.request.url), ["/a", "/b", "/c"]);
});

test("open creates the file and its missing parent directories", async () => {
  const path = join(dir, "deep", "er", "still", "api.jsonl");
  const sink = new JsonlSink(path, nodeFileSystem);
  await sink.open();
  assert.equal((await stat(path)).size, 0);
  await sink.writeBatch([record("/x")]);
  await sink.close();
  assert.equal((await lines(path)).length, 1);
});

test("open rejects for a path that cannot be created, and a later write retries", async () => {
  const blocker = join(dir, "blocker");
  await writeFile(blocker, "a regular file");
  const path = join(blocker, "sub", "api.jsonl");
  const sink = new JsonlSink(path, nodeFileSystem);
  await assert.rejects(sink.open(), (error: NodeJS.ErrnoException) => {
    assert.match(String(error.code), /^(ENOTDIR|EEXIST)$/);
    return true;
  });
  await assert.rejects(sink.writeBatch([record("/lost")]));
  await rm(blocker);
  await sink.writeBatch([record("/after")]);
  await sink.close();
  assert.deepEqual((await lines(path)).map((r) => r.request.url), ["/after"]);
});

test("close without a write, or twice, is harmless", async () => {
  const sink = new JsonlSink(join(dir, "never.jsonl"), nodeFileSystem);
  await sink.close();
  await sink.close();
  const opened = new JsonlSink(join(dir, "twice.jsonl"), nodeFileSystem);
  await opened.open();
  await opened.close();
  await opened.close();
});

test("concurrent batches all land as whole lines", async () => {
  const path = join(dir, "concurrent.jsonl");
  const sink = new JsonlSink(path, nodeFileSystem);
  const big = "x".repeat(200_000);
  await Promise.all(Array.from({ length: 10 }, (_, i) => sink.writeBatch([record(`/${i}`, big)])));
  await sink.close();
  const written = await lines(path);
  assert.equal(written.length, 10);
  assert.deepEqual(written.map((r) => r.request.url).sort(), Array.from({ length: 10 }, (_, i) => `/${i}`).sort());
  assert.ok(written.every((r) => r.request.body === big));
});
