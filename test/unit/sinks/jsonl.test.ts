import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { HttpRecord } from "../../../src/shared/record.ts";
import { nodeFileSystem } from "../../../src/runtime/shared/fs.ts";
import { JsonlSink } from "../../../src/sinks/jsonl.ts";
import { listRotated } from "../../../src/sinks/rotation.ts";
import { AppendFailure, PartialWriteError } from "../../../src/sinks/write-errors.ts";

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

// Rotation and retention.

/** A record tagged with its batch and position, so order and batch integrity can be checked. */
function tagged(batch: number, index: number, bodyBytes: number): HttpRecord {
  return record(`/${batch}/${index}`, "b".repeat(bodyBytes));
}

async function rotatedFiles(sub: string, live = "api.jsonl"): Promise<string[]> {
  return (await listRotated(nodeFileSystem, join(sub, live)));
}

test("rotation by size keeps every record once, in order, and no file past the limit", async () => {
  const sub = join(dir, "rot-size");
  const path = join(sub, "api.jsonl");
  const notified: string[] = [];
  const errors: Error[] = [];
  const maxBytes = 4000;
  const sink = new JsonlSink(path, nodeFileSystem, {
    rotation: { maxBytes, intervalMs: 0 },
    onRotated: (p) => void notified.push(p),
    onError: (e) => void errors.push(e),
  });
  const sent: string[] = [];
  const writes: Promise<void>[] = [];
  for (let batch = 0; batch < 40; batch++) {
    const records = Array.from({ length: 1 + (batch % 3) }, (_, i) => tagged(batch, i, 100 + ((batch * 37) % 700)));
    for (const r of records) sent.push(r.request.url);
    // Half the batches are issued without waiting, so rotations happen with appends queued behind them.
    const write = sink.writeBatch(records);
    if (batch % 2 === 0) writes.push(write);
    else await write;
  }
  await Promise.all(writes);
  await sink.close();
  assert.deepEqual(errors, []);
  const rotated = await rotatedFiles(sub);
  assert.ok(rotated.length >= 5, `expected several rotations, got ${rotated.length}`);
  assert.deepEqual(notified, rotated, "onRotated once per rotated file, in order");
  const got: string[] = [];
  for (const file of [...rotated, path]) {
    const records = await lines(file);
    const urls = records.map((r) => r.request.url);
    got.push(...urls);
    const bytes = (await stat(file)).size;
    // Batches are split at the limit: a file never passes it (a single larger line would get a file of its own).
    assert.ok(bytes <= maxBytes, `${file} holds ${bytes} bytes, over ${maxBytes}`);
    // Lines are at most ~1,100 bytes here, so a rotated file was full to within one line.
    if (file !== path) assert.ok(bytes > maxBytes - 1200, `${file} rotated only once full (${bytes})`);
  }
  assert.deepEqual(got, sent);
});

test("two rotations in the same millisecond produce distinct files", async () => {
  const sub = join(dir, "rot-same-ms");
  const path = join(sub, "api.jsonl");
  const frozen = new Date("2026-11-21T10:15:02.123Z");
  const notified: string[] = [];
  const sink = new JsonlSink(path, nodeFileSystem, {
    rotation: { maxBytes: 1, intervalMs: 0 },
    now: () => frozen,
    onRotated: (p) => void notified.push(p),
  });
  await sink.writeBatch([record("/a")]);
  await sink.writeBatch([record("/b")]);
  await sink.writeBatch([record("/c")]);
  await sink.close();
  const expected = ["", "_1", "_2"].map((c) => join(sub, `api-20261121T101502.123Z${c}.jsonl`));
  assert.deepEqual(await rotatedFiles(sub), expected);
  assert.deepEqual(notified, expected);
  const urls = await Promise.all(expected.map(async (f) => (await lines(f)).map((r) => r.request.url)));
  assert.deepEqual(urls, [["/a"], ["/b"], ["/c"]]);
  assert.equal((await stat(path)).size, 0, "a fresh live file is open after the last rotation");
});

test("rotation by interval rotates a written file and leaves an empty one alone", async () => {
  const sub = join(dir, "rot-interval");
  const path = join(sub, "api.jsonl");
  const notified: string[] = [];
  let rotatedOnce: () => void = () => {};
  const first = new Promise<void>((resolve) => (rotatedOnce = resolve));
  const sink = new JsonlSink(path, nodeFileSystem, {
    rotation: { maxBytes: 0, intervalMs: 50 },
    onRotated: (p) => {
      notified.push(p);
      rotatedOnce();
    },
  });
  const started = performance.now();
  await sink.writeBatch([record("/before")]);
  // A ref'd timer: the sink's own interval timer is unref'd and would let the test's event loop end.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("No rotation within 3 s")), 3000);
  });
  await Promise.race([first, timeout]).finally(() => clearTimeout(timer));
  assert.ok(performance.now() - started >= 45, "not before the interval");
  assert.equal(notified.length, 1);
  // Several intervals with nothing written: the empty live file is not rotated.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(notified.length, 1);
  await sink.writeBatch([record("/after")]);
  await sink.close();
  // Closed: the timer is stopped and nothing rotates any more.
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(notified.length, 1);
  assert.deepEqual(await rotatedFiles(sub), notified);
  assert.deepEqual((await lines(notified[0]!)).map((r) => r.request.url), ["/before"]);
  assert.deepEqual((await lines(path)).map((r) => r.request.url), ["/after"]);
});

test("an existing live file's size counts toward rotation after a restart", async () => {
  const sub = join(dir, "rot-restart");
  const path = join(sub, "api.jsonl");
  const one = new JsonlSink(path, nodeFileSystem);
  await one.writeBatch([record("/old", "o".repeat(3000))]);
  await one.close();
  const two = new JsonlSink(path, nodeFileSystem, { rotation: { maxBytes: 3000, intervalMs: 0 } });
  await two.writeBatch([record("/new")]);
  await two.close();
  // The old file was already at the limit: it rotates before the new line, which starts the next file.
  const rotated = await rotatedFiles(sub);
  assert.equal(rotated.length, 1);
  assert.deepEqual((await lines(rotated[0]!)).map((r) => r.request.url), ["/old"]);
  assert.deepEqual((await lines(path)).map((r) => r.request.url), ["/new"]);
});

test("retention keeps the newest N rotated files and touches nothing else", async () => {
  const sub = join(dir, "rot-retention");
  await mkdir(sub, { recursive: true });
  const bystanders = ["api-v2.jsonl", "api-v2-20200101T000000.000Z.jsonl", "api-20200101T000000.000Z.db", "notes.txt"];
  for (const name of bystanders) await writeFile(join(sub, name), "keep me\n");
  const path = join(sub, "api.jsonl");
  let tick = Date.UTC(2026, 0, 1);
  const notified: string[] = [];
  const sink = new JsonlSink(path, nodeFileSystem, {
    rotation: { maxBytes: 1, intervalMs: 0 },
    retention: 2,
    now: () => new Date(tick += 1000),
    onRotated: (p) => void notified.push(p),
  });
  for (let i = 0; i < 5; i++) await sink.writeBatch([record(`/${i}`)]);
  await sink.close();
  const rotated = await rotatedFiles(sub);
  assert.equal(rotated.length, 2);
  assert.deepEqual(rotated, notified.slice(-2));
  assert.deepEqual(await Promise.all(rotated.map(async (f) => (await lines(f))[0]!.request.url)), ["/3", "/4"]);
  for (const name of bystanders) assert.equal(await readFile(join(sub, name), "utf8"), "keep me\n", name);
  assert.equal(notified.length, 5, "onRotated once per rotation");
  const names = (await readdir(sub)).sort();
  assert.deepEqual(names, [...bystanders, "api.jsonl", ...rotated.map((f) => f.slice(sub.length + 1))].sort());
});

test("retention -1 keeps every rotated file", async () => {
  const sub = join(dir, "rot-unlimited");
  const path = join(sub, "api.jsonl");
  const sink = new JsonlSink(path, nodeFileSystem, { rotation: { maxBytes: 1, intervalMs: 0 }, retention: -1 });
  for (let i = 0; i < 4; i++) await sink.writeBatch([record(`/${i}`)]);
  await sink.close();
  assert.equal((await rotatedFiles(sub)).length, 4);
  assert.throws(() => new JsonlSink(path, nodeFileSystem, { retention: 0.5 }), RangeError);
});

test("a failed rotation is reported, loses nothing, and is retried", async () => {
  const sub = join(dir, "rot-fail");
  const path = join(sub, "api.jsonl");
  let failRenames = 1;
  const fs = {
    ...nodeFileSystem,
    rename: (from: string, to: string) =>
      failRenames-- > 0 ? Promise.reject(new Error("EBUSY: resource busy")) : nodeFileSystem.rename(from, to),
  };
  const errors: Error[] = [];
  const notified: string[] = [];
  const sink = new JsonlSink(path, fs, {
    rotation: { maxBytes: 1, intervalMs: 0 },
    onError: (e) => void errors.push(e),
    onRotated: () => {
      notified.push("x");
      throw new Error("listener broke");
    },
  });
  await sink.writeBatch([record("/1")]);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /^Failed to rotate .*api\.jsonl: EBUSY/);
  // The next batch rotates the file first (now it works), then its own line fills the next file.
  await sink.writeBatch([record("/2")]);
  await sink.close();
  const rotated = await rotatedFiles(sub);
  assert.equal(rotated.length, 2);
  assert.deepEqual((await lines(rotated[0]!)).map((r) => r.request.url), ["/1"]);
  assert.deepEqual((await lines(rotated[1]!)).map((r) => r.request.url), ["/2"]);
  assert.equal(notified.length, 2);
  assert.equal(errors.length, 3);
  assert.match(errors[1]!.message, /^Rotation listener failed for .*: listener broke/);
});

test("a half-written last line from a crash is ended before new records, so they stay readable", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tapline-jsonl-crash-"));
  try {
    const path = join(dir, "api.jsonl");
    await writeFile(path, '{"type":"http","id":"a"}\n{"type":"ht');
    const sink = new JsonlSink(path, nodeFileSystem);
    await sink.open();
    await sink.writeBatch([{ type: "http", id: "b" } as unknown as HttpRecord]);
    await sink.close();
    const lines = (await readFile(path, "utf8")).split("\n");
    assert.deepEqual(lines, ['{"type":"http","id":"a"}', '{"type":"ht', '{"type":"http","id":"b"}', ""]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a batch larger than the limit is split across files; a line larger than the limit gets a file of its own", async () => {
  const sub = join(dir, "split");
  const path = join(sub, "api.jsonl");
  const maxBytes = 2000;
  const sink = new JsonlSink(path, nodeFileSystem, { rotation: { maxBytes, intervalMs: 0 } });
  const batch = Array.from({ length: 20 }, (_, i) => record(`/s/${i}`, "é".repeat(200)));
  batch.splice(10, 0, record("/huge", "h".repeat(5000)));
  await sink.writeBatch(batch);
  await sink.close();
  const files = [...await rotatedFiles(sub), path];
  const got: string[] = [];
  for (const file of files) {
    const urls = (await lines(file)).map((r) => r.request.url);
    got.push(...urls);
    const bytes = (await stat(file)).size;
    if (urls.includes("/huge")) assert.deepEqual(urls, ["/huge"], "the oversize line is alone");
    else assert.ok(bytes <= maxBytes, `${file}: ${bytes} bytes`);
  }
  assert.deepEqual(got, batch.map((r) => r.request.url));
  assert.ok(files.length >= 5, `${files.length} files`);
});

/** nodeFileSystem whose appends stop after `room()` more bytes, as a full disk does (ENOSPC). */
function fullDisk(room: () => number, options: { truncateFails?: boolean } = {}) {
  return {
    ...nodeFileSystem,
    async openAppend(path: string) {
      const file = await nodeFileSystem.openAppend(path);
      return {
        ...file,
        async append(text: string) {
          const bytes = new TextEncoder().encode(text);
          const left = room();
          if (bytes.byteLength <= left) return await file.append(text);
          // Part of the text reaches the file, then the disk is full.
          const part = new TextDecoder().decode(bytes.subarray(0, left));
          if (left > 0) await file.append(part);
          throw new AppendFailure(
            left,
            Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }),
          );
        },
        truncate: (size: number) =>
          options.truncateFails ? Promise.reject(new Error("EIO: truncate failed")) : file.truncate(size),
      };
    },
  };
}

test("an append cut short by a full disk keeps whole lines only, says how many, and the next batch appends cleanly", async () => {
  const sub = join(dir, "enospc");
  const path = join(sub, "api.jsonl");
  let room = Number.POSITIVE_INFINITY;
  const sink = new JsonlSink(path, fullDisk(() => room));
  await sink.writeBatch([record("/before")]);
  const batch = [record("/a"), record("/b"), record("/c", "x".repeat(500))];
  const firstTwo = (JSON.stringify(batch[0]) + "\n" + JSON.stringify(batch[1]) + "\n").length;
  room = firstTwo + 40; // two whole lines and 40 bytes of the third
  await assert.rejects(sink.writeBatch(batch), (error: unknown) => {
    assert.ok(error instanceof PartialWriteError, String(error));
    assert.equal(error.written, 2);
    assert.match(error.message, /^Wrote 2 of 3 records: ENOSPC/);
    return true;
  });
  room = Number.POSITIVE_INFINITY; // space is back
  await sink.writeBatch([record("/after")]);
  await sink.close();
  assert.deepEqual((await lines(path)).map((r) => r.request.url), ["/before", "/a", "/b", "/after"]);
});

test("when the partial line cannot be cut, it is ended on its own line and no good record is broken", async () => {
  const sub = join(dir, "enospc-no-truncate");
  const path = join(sub, "api.jsonl");
  let room = Number.POSITIVE_INFINITY;
  const sink = new JsonlSink(path, fullDisk(() => room, { truncateFails: true }));
  await sink.writeBatch([record("/before")]);
  room = 30;
  await assert.rejects(sink.writeBatch([record("/lost")]), (error: unknown) => {
    assert.ok(error instanceof PartialWriteError);
    assert.equal(error.written, 0);
    return true;
  });
  room = Number.POSITIVE_INFINITY;
  await sink.writeBatch([record("/after")]);
  await sink.close();
  const text = await readFile(path, "utf8");
  const all = text.split("\n").filter((line) => line !== "");
  assert.equal(all.length, 3);
  assert.equal(JSON.parse(all[0]!).request.url, "/before");
  assert.equal(all[1]!.length, 30, "the cut line stands alone");
  assert.equal(JSON.parse(all[2]!).request.url, "/after");
});

test("a live file deleted or replaced under the sink is opened again at its path", async () => {
  const sub = join(dir, "unlinked");
  const path = join(sub, "api.jsonl");
  const sink = new JsonlSink(path, nodeFileSystem, { liveCheckIntervalMs: 0 });
  await sink.writeBatch([record("/1")]);
  await rm(path);
  await sink.writeBatch([record("/2")]);
  assert.deepEqual((await lines(path)).map((r) => r.request.url), ["/2"], "a new file after the delete");
  await rename(path, join(sub, "moved.jsonl"));
  await writeFile(path, "");
  await sink.writeBatch([record("/3")]);
  await sink.close();
  assert.deepEqual((await lines(path)).map((r) => r.request.url), ["/3"], "the replacement file");
  assert.deepEqual((await lines(join(sub, "moved.jsonl"))).map((r) => r.request.url), ["/2"]);
});

test("the live path is checked at most once per interval: a delete is noticed by the first batch after it", async () => {
  const sub = join(dir, "unlinked-interval");
  const path = join(sub, "api.jsonl");
  const sink = new JsonlSink(path, nodeFileSystem, { liveCheckIntervalMs: 150 });
  await sink.writeBatch([record("/1")]);
  await rm(path);
  await sink.writeBatch([record("/2")]); // within the interval: still the deleted file
  await new Promise((resolve) => setTimeout(resolve, 200));
  await sink.writeBatch([record("/3")]);
  await sink.close();
  assert.deepEqual((await lines(path)).map((r) => r.request.url), ["/3"]);
});
