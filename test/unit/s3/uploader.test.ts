/**
 * S3Uploader against the verifying S3 test server (s3rver behind an
 * independent SigV4 verifier) on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { nodeFileSystem } from "../../../src/runtime/shared/fs.ts";
import { NodeSha256 } from "../../../src/runtime/shared/sha256.ts";
import { S3Client, type S3ObjectStore } from "../../../src/s3/client.ts";
import { S3Uploader, type S3UploaderOptions } from "../../../src/s3/uploader.ts";
import { DEFAULT_KEY_TEMPLATE } from "../../../src/s3/object-key.ts";
import { gunzipSync } from "node:zlib";
import { type S3TestServer, startS3TestServer } from "../../conformance/harness/s3-server.ts";

const MiB = 1024 * 1024;
let s3: S3TestServer;
let root = "";
let dirCount = 0;

before(async () => {
  s3 = await startS3TestServer();
  root = await mkdtemp(join(tmpdir(), "tapline-s3-upload-"));
});
after(async () => {
  await s3.close();
  await rm(root, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const dir = join(root, `d${++dirCount}`);
  await mkdir(dir);
  return dir;
}

function client(secretAccessKey = s3.credentials.secretAccessKey): S3Client {
  return new S3Client({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { ...s3.credentials, secretAccessKey },
    sha256: NodeSha256,
    requestTimeoutMs: 10_000,
  });
}

function uploader(options: Partial<S3UploaderOptions> = {}): S3Uploader {
  return new S3Uploader({
    store: client(),
    fs: nodeFileSystem,
    prefix: "archive",
    multipartThresholdBytes: 5 * MiB,
    partSizeBytes: 5 * MiB,
    retry: { initialMs: 50, maxMs: 200 },
    scanIntervalMs: 0,
    ...options,
  });
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

test("a small file goes up in one PutObject and is deleted only after S3 confirmed it", async () => {
  const dir = await freshDir();
  const path = join(dir, "api.20240101T000000Z.jsonl");
  const body = randomBytes(64 * 1024);
  await writeFile(path, body);
  const inner = client();
  let existedWhenConfirmed: boolean | undefined;
  // Observes the local file at the moment S3's confirmation arrives.
  const store: S3ObjectStore = {
    describe: (key) => inner.describe(key),
    putObject: async (...args) => {
      await inner.putObject(...args);
      existedWhenConfirmed = existsSync(path);
    },
    createMultipartUpload: (...args) => inner.createMultipartUpload(...args),
    uploadPart: (...args) => inner.uploadPart(...args),
    completeMultipartUpload: (...args) => inner.completeMultipartUpload(...args),
    abortMultipartUpload: (...args) => inner.abortMultipartUpload(...args),
  };
  const up = uploader({ store });
  const before = s3.requests.length;
  up.enqueue(path);
  up.enqueue(path); // queued once
  await waitFor("the upload", () => up.metrics.uploads === 1);
  await waitFor("the local delete", () => !existsSync(path));
  assert.equal(existedWhenConfirmed, true);
  assert.equal(sha((await s3.getObject("archive/api.20240101T000000Z.jsonl"))!), sha(body));
  const sent = s3.requests.slice(before);
  assert.deepEqual(sent.map((r) => [r.method, r.status]), [["PUT", 200]]);
  assert.equal(up.metrics.bytesUploaded, body.byteLength);
  assert.equal(up.metrics.filesPending, 0);
  assert.equal(up.metrics.uploadFailures, 0);
  assert.equal(await up.close(1_000), true);
});

test("a 12 MiB file goes multipart in 5 MiB parts and arrives intact", async () => {
  const dir = await freshDir();
  const path = join(dir, "big.20240101T000001Z.db");
  const body = randomBytes(12 * MiB);
  await writeFile(path, body);
  const up = uploader();
  const before = s3.requests.length;
  up.enqueue(path);
  await waitFor("the multipart upload", () => up.metrics.uploads === 1, 30_000);
  assert.equal(existsSync(path), false);
  const stored = await s3.getObject("archive/big.20240101T000001Z.db");
  assert.equal(stored?.byteLength, body.byteLength);
  assert.equal(sha(stored!), sha(body));
  const sent = s3.requests.slice(before);
  assert.deepEqual(sent.map((r) => [r.method, r.url.replace(/uploadId=[^&]+/, "uploadId=ID"), r.status]), [
    ["POST", "/tapline-test/archive/big.20240101T000001Z.db?uploads", 200],
    ["PUT", "/tapline-test/archive/big.20240101T000001Z.db?partNumber=1&uploadId=ID", 200],
    ["PUT", "/tapline-test/archive/big.20240101T000001Z.db?partNumber=2&uploadId=ID", 200],
    ["PUT", "/tapline-test/archive/big.20240101T000001Z.db?partNumber=3&uploadId=ID", 200],
    ["POST", "/tapline-test/archive/big.20240101T000001Z.db?uploadId=ID", 200],
  ]);
  assert.deepEqual(sent.slice(1, 4).map((r) => r.bodyBytes), [5 * MiB, 5 * MiB, 2 * MiB]);
  assert.equal(up.metrics.bytesUploaded, 12 * MiB);
  await up.close(1_000);
});

test("a server that is down keeps the file, and the retry uploads it once it is back", async () => {
  const dir = await freshDir();
  const path = join(dir, "down.20240101T000002Z.jsonl");
  const body = randomBytes(10_000);
  await writeFile(path, body);
  const up = uploader();
  await s3.stop();
  try {
    up.enqueue(path);
    await waitFor("two failed attempts", () => up.metrics.uploadFailures >= 2);
    assert.equal(existsSync(path), true);
    assert.equal(up.metrics.uploads, 0);
    assert.equal(up.metrics.filesPending, 1);
  } finally {
    await s3.start();
  }
  await waitFor("the retried upload", () => up.metrics.uploads === 1);
  assert.equal(existsSync(path), false);
  assert.equal(sha((await s3.getObject("archive/down.20240101T000002Z.jsonl"))!), sha(body));
  assert.equal(up.metrics.filesPending, 0);
  await up.close(1_000);
});

test("a refused upload (wrong secret) never deletes the file", async () => {
  const dir = await freshDir();
  const path = join(dir, "refused.jsonl");
  await writeFile(path, "x\n");
  const up = uploader({ store: client("wrong-secret") });
  up.enqueue(path);
  await waitFor("three refusals", () => up.metrics.uploadFailures >= 3);
  assert.equal(existsSync(path), true);
  assert.equal(up.metrics.uploads, 0);
  assert.deepEqual(up.pending(), [path]);
  assert.equal(await s3.getObject("archive/refused.jsonl"), undefined);
  await up.close(1_000);
  assert.equal(existsSync(path), true);
});

test("the start-up scan finds files left from before, and the periodic scan finds new ones", async () => {
  const dir = await freshDir();
  const names = ["api.20231231T235958Z.jsonl", "api.20231231T235959Z.jsonl", "web.20231231T235959Z.db"];
  for (const name of names) await writeFile(join(dir, name), `${name}\n`);
  const listPending = async () => (await readdir(dir)).sort().map((name) => join(dir, name));
  const up = uploader({ listPending, scanIntervalMs: 100 });
  await up.start();
  await waitFor("the left-over files", () => up.metrics.uploads === 3);
  assert.deepEqual(await readdir(dir), []);
  for (const name of names) {
    assert.equal(new TextDecoder().decode(await s3.getObject(`archive/${name}`)), `${name}\n`);
  }
  await writeFile(join(dir, "late.jsonl"), "late\n");
  await waitFor("the periodic scan", () => up.metrics.uploads === 4);
  assert.equal(new TextDecoder().decode(await s3.getObject("archive/late.jsonl")), "late\n");
  await up.close(1_000);
  assert.ok((await s3.listKeys()).includes("archive/late.jsonl"));
});

test("close() waits for the upload in progress, bounded, and keeps an unfinished file", async () => {
  const dir = await freshDir();
  const path = join(dir, "slow.jsonl");
  await writeFile(path, "slow\n");
  let aborted = false;
  const hanging: S3ObjectStore = {
    describe: (key) => `s3://hang/${key}`,
    putObject: ({ signal }) =>
      new Promise((_resolve, reject) => {
        signal?.addEventListener("abort", () => {
          aborted = true;
          reject(new Error("aborted"));
        });
      }),
    createMultipartUpload: () => Promise.reject(new Error("unused")),
    uploadPart: () => Promise.reject(new Error("unused")),
    completeMultipartUpload: () => Promise.reject(new Error("unused")),
    abortMultipartUpload: () => Promise.resolve(),
  };
  const up = uploader({ store: hanging });
  up.enqueue(path);
  await waitFor("the upload to start", () => up.pending().length === 1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const started = Date.now();
  assert.equal(await up.close(200), false);
  const took = Date.now() - started;
  assert.ok(took >= 190 && took < 1_500, `close took ${took} ms`);
  assert.equal(aborted, true);
  assert.equal(existsSync(path), true);
});

test("close() with drain finishes the files already queued", async () => {
  const dir = await freshDir();
  const paths = [join(dir, "q1.jsonl"), join(dir, "q2.jsonl")];
  for (const path of paths) await writeFile(path, "q\n");
  const up = uploader();
  for (const path of paths) up.enqueue(path);
  assert.equal(await up.close(5_000), true);
  assert.equal(up.metrics.uploads, 2);
  assert.deepEqual(paths.map((path) => existsSync(path)), [false, false]);
});

test("a multipart upload failing mid-way is aborted, the file kept, and a retry completes it", async () => {
  const dir = await freshDir();
  const path = join(dir, "flaky.db");
  const body = randomBytes(11 * MiB);
  await writeFile(path, body);
  const inner = client();
  let partCalls = 0;
  const aborted: string[] = [];
  const store: S3ObjectStore = {
    describe: (key) => inner.describe(key),
    putObject: (...args) => inner.putObject(...args),
    createMultipartUpload: (...args) => inner.createMultipartUpload(...args),
    uploadPart: (...args) => {
      if (++partCalls === 2) return Promise.reject(new Error("connection reset"));
      return inner.uploadPart(...args);
    },
    completeMultipartUpload: (...args) => inner.completeMultipartUpload(...args),
    abortMultipartUpload: (key, uploadId, signal) => {
      aborted.push(uploadId);
      return inner.abortMultipartUpload(key, uploadId, signal);
    },
  };
  const up = uploader({ store });
  up.enqueue(path);
  await waitFor("the retried multipart upload", () => up.metrics.uploads === 1, 30_000);
  assert.equal(up.metrics.uploadFailures, 1);
  assert.equal(aborted.length, 1);
  assert.equal(existsSync(path), false);
  assert.equal(sha((await s3.getObject("archive/flaky.db"))!), sha(body));
  await up.close(1_000);
});

test("default keys: Hive-style partitions, gzip-compressed JSONL, both local copies removed after the upload", async () => {
  const dir = await freshDir();
  const path = join(dir, "api-20261203T101502.123Z.jsonl");
  const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ type: "http", id: `r${i}` })).join("\n") + "\n";
  await writeFile(path, lines);
  const up = uploader({ prefix: "hive", keyTemplate: DEFAULT_KEY_TEMPLATE, instance: "host-1", compress: "gzip" });
  up.enqueue(path);
  await waitFor("the upload", () => up.metrics.uploads === 1);
  const key = "hive/route=api/date=2026-12-03/hour=10/host-1-20261203T101502.123Z-0.jsonl.gz";
  const stored = await s3.getObject(key);
  assert.ok(stored, `${key} in ${JSON.stringify(await s3.listKeys())}`);
  assert.equal(gunzipSync(stored).toString("utf8"), lines);
  assert.ok(stored.byteLength < lines.length / 3, "compressed");
  assert.equal(up.metrics.bytesUploaded, stored.byteLength);
  assert.deepEqual(await readdir(dir), [], "the original and the compressed copy are gone");
  assert.equal(await up.close(1_000), true);
});

test("a key already taken in the bucket is never overwritten: the next sequence number is used", async () => {
  const dir = await freshDir();
  const name = "web-20261203T101502.123Z.jsonl";
  const taken = "seq/route=web/date=2026-12-03/hour=10/host-1-20261203T101502.123Z-0.jsonl";
  await client().putObject({ key: taken, body: new TextEncoder().encode("someone else's\n") });
  await writeFile(join(dir, name), "mine\n");
  const up = uploader({ prefix: "seq", keyTemplate: DEFAULT_KEY_TEMPLATE, instance: "host-1", compress: "none" });
  const before = s3.requests.length;
  up.enqueue(join(dir, name));
  await waitFor("the upload", () => up.metrics.uploads === 1);
  assert.equal(new TextDecoder().decode(await s3.getObject(taken)), "someone else's\n", "left alone");
  const next = taken.replace("-0.jsonl", "-1.jsonl");
  assert.equal(new TextDecoder().decode(await s3.getObject(next)), "mine\n");
  assert.deepEqual(s3.requests.slice(before).map((r) => r.status), [412, 200]);
  assert.equal(up.metrics.uploadFailures, 0, "a taken key is not a failure");
  assert.equal(await up.close(1_000), true);
});
