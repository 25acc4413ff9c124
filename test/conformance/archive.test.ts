/**
 * S3 archival end to end, per runtime: a real tapline process rotates its
 * JSONL and SQLite captures by size and uploads every rotated file to the
 * S3 test server (s3rver behind an independent SigV4 verifier, all on
 * 127.0.0.1). Checked: uploads arrive intact and the local files go; files
 * left from an earlier run are found at start-up; a wrong secret is refused
 * and the files stay while forwarding goes on; a server that is down keeps
 * the files until it is back. Every wait is bounded.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { HttpRecord } from "../../src/shared/record.ts";
import { request } from "./harness/client.ts";
import { marker, proxySpec, removeDir, sleep, tempDir } from "./harness/fixture.ts";
import { parseJsonl, rotatedFiles } from "./harness/rotated.ts";
import { runtimes } from "./harness/runtimes.ts";
import { awsEnvironment, s3Args, type S3TestServer, startS3TestServer } from "./harness/s3-server.ts";
import { integrityOk, query, requireSqlite3 } from "./harness/sqlite.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import { startUpstream, type Upstream } from "./harness/upstream.ts";

const T = { timeout: 40_000 };
const WAIT_MS = 5_000;
const ROUTE = "arc";

let s3: S3TestServer;
let up: Upstream;
before(async () => {
  requireSqlite3();
  s3 = await startS3TestServer();
  up = await startUpstream("archive");
});
after(async () => {
  await s3?.close();
  await up?.close();
});

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Poll `check` every 50 ms until it returns a value that is not undefined; fail with `what()` after `timeoutMs`. */
async function until<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: () => string) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Not within ${timeoutMs} ms: ${what()}`);
    await sleep(50);
  }
}

/** The four S3 series from the admin port. */
async function s3Metrics(tap: Tapline): Promise<Record<string, number>> {
  const res = await request(`http://127.0.0.1:${tap.adminPort()}/_metrics`, { timeoutMs: WAIT_MS });
  assert.equal(res.status, 200);
  const out: Record<string, number> = {};
  for (const line of res.body.toString("utf8").split("\n")) {
    const m = /^(tapline_s3_[a-z_]+) (\S+)$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  for (
    const name of [
      "tapline_s3_uploads_total",
      "tapline_s3_upload_failures_total",
      "tapline_s3_uploaded_bytes_total",
      "tapline_s3_files_pending",
    ]
  ) {
    assert.ok(name in out, `${name} is on the metrics page: ${JSON.stringify(out)}`);
  }
  return out;
}

/** Start tapline archiving `dir/arc.jsonl` and `dir/arc.db` under `prefix`, rotating at 8KB. */
function startArchiving(runtime: (typeof runtimes)[number], dir: string, prefix: string, secret?: string) {
  return startTapline(runtime, [
    "--listen-admin",
    "127.0.0.1:0",
    "--rotate-size",
    "8KB",
    "--flush-interval",
    "10ms",
    "--shutdown-timeout",
    "3s",
    ...s3Args(s3, prefix),
    // http-tap-proxy's flat layout, uncompressed: these tests compare objects with the local files by name.
    // The default layout (partitions, instance ids, gzip) is tested in archive-layout.test.ts.
    "--s3-key-template",
    "{prefix}{file}",
    "--s3-compress",
    "none",
    "--proxy",
    proxySpec({ name: ROUTE, upstream: up.url, log_jsonl: join(dir, "arc.jsonl"), log_sqlite: join(dir, "arc.db") }),
  ], { env: awsEnvironment(s3, secret) });
}

/** Records written so far for the route, counted once per sink (admin metrics). */
async function recordsWritten(tap: Tapline): Promise<number> {
  const res = await request(`http://127.0.0.1:${tap.adminPort()}/_metrics`, { timeoutMs: WAIT_MS });
  const series = `tapline_records_written_total{route="${ROUTE}"} `;
  const line = res.body.toString("utf8").split("\n").find((l) => l.startsWith(series));
  return line === undefined ? 0 : Number(line.slice(series.length));
}

/**
 * `n` GETs with `i=<index>` in the URL; every one must be forwarded (200).
 * Returns once both sinks wrote all of them, so every size rotation they
 * cause has happened (a sink's write ends after its rotation).
 */
async function traffic(tap: Tapline, n: number): Promise<void> {
  const m = marker("arc");
  for (let i = 0; i < n; i++) {
    const res = await request(tap.url(ROUTE, `/bytes/300?m=${m}&i=${i}`), { timeoutMs: WAIT_MS });
    assert.equal(res.status, 200, `request ${i} forwarded`);
  }
  await until(
    async () => ((await recordsWritten(tap)) >= 2 * n ? true : undefined),
    WAIT_MS,
    () => `${n} records written to JSONL and SQLite\n${tap.stderrTail()}`,
  );
}

/** Rotated files of either live file still on disk. */
function localRotated(dir: string): string[] {
  return [...rotatedFiles(dir, "arc.jsonl"), ...rotatedFiles(dir, "arc.db")].map((f) => f.name);
}

/** File names of the "rotated" log lines. */
function loggedRotations(tap: Tapline): string[] {
  return tap.logs.filter((l) => l.msg === "rotated").map((l) => String(l["file"]).replace(/^.*[\\/]/, ""));
}

/** Keys under `prefix` (s3rver directly). */
async function keysUnder(prefix: string): Promise<string[]> {
  return (await s3.listKeys()).filter((k) => k.startsWith(prefix)).sort();
}

/** Total size of the objects `keys` in the bucket. */
async function objectBytes(keys: string[]): Promise<number> {
  let total = 0;
  for (const key of keys) total += (await s3.getObject(key))?.byteLength ?? 0;
  return total;
}

/**
 * Every request index 0..n-1 is in exactly one place: an uploaded JSONL
 * object or the live JSONL file; likewise for uploaded databases and the
 * live database. Read after tapline stopped: the live database is flushed
 * on an interval and at shutdown.
 */
async function assertAccountedFor(dir: string, prefix: string, names: string[], n: number): Promise<void> {
  const jsonlIndices: number[] = [];
  const dbIndices: number[] = [];
  const indexOf = (url: string) => Number(/[?&]i=(\d+)/.exec(url)![1]);
  for (const name of names) {
    const object = await s3.getObject(prefix + name);
    assert.ok(object, `object ${prefix + name} exists`);
    if (name.endsWith(".jsonl")) {
      const records = parseJsonl(prefix + name, Buffer.from(object).toString("utf8")) as HttpRecord[];
      jsonlIndices.push(...records.map((r) => indexOf(r.request.url)));
    } else {
      const copy = join(dir, `downloaded-${name}`);
      writeFileSync(copy, object);
      assert.ok(integrityOk(copy), `${name} from the bucket opens in sqlite3`);
      dbIndices.push(...query(copy, "SELECT req_url FROM http_entries").map((r) => indexOf(String(r["req_url"]))));
    }
  }
  jsonlIndices.push(...(parseJsonl(join(dir, "arc.jsonl")) as HttpRecord[]).map((r) => indexOf(r.request.url)));
  dbIndices.push(
    ...query(join(dir, "arc.db"), "SELECT req_url FROM http_entries").map((r) => indexOf(String(r["req_url"]))),
  );
  const all = [...Array(n).keys()];
  assert.deepEqual(
    jsonlIndices.sort((a, b) => a - b),
    all,
    "JSONL: uploaded objects plus the live file hold every request once",
  );
  assert.deepEqual(
    dbIndices.sort((a, b) => a - b),
    all,
    "SQLite: uploaded databases plus the live one hold every request once",
  );
}

for (const runtime of runtimes) {
  describe(`${runtime}: S3 archival`, { timeout: 120_000 }, () => {
    test("rotated files and files left from before start-up are uploaded intact, then deleted locally", T, async () => {
      const dir = tempDir();
      const prefix = `${runtime}/ok/`;
      let tap: Tapline | undefined;
      try {
        // Left by an earlier run: a rotated file of the configured live file, and one of another file.
        const leftover = "arc-20200101T000000.000Z.jsonl";
        const leftoverBytes = Buffer.concat([Buffer.from('{"left":"over"}\n'), randomBytes(2000)]);
        writeFileSync(join(dir, leftover), leftoverBytes);
        const stranger = "other-20200101T000000.000Z.jsonl";
        writeFileSync(join(dir, stranger), "not ours\n");
        const seen = s3.requests.length;

        tap = await startArchiving(runtime, dir, prefix);
        const stored = await until(
          async () => (existsSync(join(dir, leftover)) ? undefined : await s3.getObject(prefix + leftover)),
          WAIT_MS,
          () => `${leftover} uploaded by the start-up scan and removed\n${tap!.stderrTail()}`,
        );
        assert.equal(sha(stored), sha(leftoverBytes), "the leftover file arrived intact");

        const N = 60;
        await traffic(tap, N);
        const t = tap;
        const rotations = await until(
          async () => {
            const logged = loggedRotations(t);
            const metrics = await s3Metrics(t);
            return localRotated(dir).length === 0 && metrics["tapline_s3_uploads_total"] === logged.length + 1
              ? logged
              : undefined;
          },
          10_000,
          () => `all rotated files uploaded; still local: ${localRotated(dir)}\n${t.stderrTail()}`,
        );
        assert.ok(rotations.filter((n) => n.endsWith(".jsonl")).length >= 2, `JSONL rotations: ${rotations}`);
        assert.ok(rotations.some((n) => n.endsWith(".db")), `SQLite rotations: ${rotations}`);

        const keys = await keysUnder(prefix);
        assert.deepEqual(keys, [...rotations, leftover].map((n) => prefix + n).sort(), "one object per rotated file");
        const bytes = await objectBytes(keys);

        const metrics = await s3Metrics(tap);
        assert.deepEqual(metrics, {
          tapline_s3_uploads_total: keys.length,
          tapline_s3_upload_failures_total: 0,
          tapline_s3_uploaded_bytes_total: bytes,
          tapline_s3_files_pending: 0,
        });
        const sent = s3.requests.slice(seen);
        assert.deepEqual(sent.filter((r) => r.rejected !== undefined), [], "the verifier accepted every request");
        assert.ok(sent.length >= keys.length, `${sent.length} requests for ${keys.length} objects`);

        assert.ok(existsSync(join(dir, stranger)), "a file that is not a rotation of a configured file stays");
        assert.equal((await s3.listKeys()).some((k) => k.endsWith(stranger)), false);
        const { code } = await tap.stop();
        assert.equal(code, 0, tap.stderrTail());
        await assertAccountedFor(dir, prefix, rotations, N);
      } finally {
        await tap?.kill();
        removeDir(dir);
      }
    });

    test("a wrong secret is refused by the verifier: files stay local, forwarding goes on", T, async () => {
      const dir = tempDir();
      const prefix = `${runtime}/bad/`;
      let tap: Tapline | undefined;
      try {
        const seen = s3.requests.length;
        tap = await startArchiving(runtime, dir, prefix, "not-the-secret");
        const N = 40;
        await traffic(tap, N);
        const t = tap;
        const metrics = await until(
          async () => {
            const m = await s3Metrics(t);
            return m["tapline_s3_upload_failures_total"]! >= 1 && localRotated(dir).length > 0 ? m : undefined;
          },
          WAIT_MS,
          () => `a failed upload with rotated files kept\n${t.stderrTail()}`,
        );
        assert.equal(metrics["tapline_s3_uploads_total"], 0);
        assert.equal(metrics["tapline_s3_uploaded_bytes_total"], 0);
        assert.ok(metrics["tapline_s3_files_pending"]! >= 1, JSON.stringify(metrics));
        const refused = s3.requests.slice(seen).filter((r) => r.url.includes(encodeURIComponent(runtime)));
        assert.ok(refused.length >= 1, "the verifier saw the uploads");
        for (const r of refused) assert.equal(r.rejected, "SignatureDoesNotMatch", JSON.stringify(r));
        assert.deepEqual(await keysUnder(prefix), []);

        // Still forwarding after the failures.
        const res = await request(tap.url(ROUTE, "/bytes/10?after=1"), { timeoutMs: WAIT_MS });
        assert.equal(res.status, 200);
        const { code } = await tap.stop();
        assert.equal(code, 0, tap.stderrTail());

        const kept = localRotated(dir);
        assert.ok(kept.length >= 2, `rotated files kept after shutdown: ${kept}`);
        assert.deepEqual(kept.sort(), loggedRotations(tap).sort(), "no rotated file was deleted");
        const records = [...rotatedFiles(dir, "arc.jsonl").map((f) => f.path), join(dir, "arc.jsonl")]
          .flatMap((f) => parseJsonl(f));
        assert.equal(records.length, N + 1, "every record is still on disk");
        assert.deepEqual(await keysUnder(prefix), []);
      } finally {
        await tap?.kill();
        removeDir(dir);
      }
    });

    test("while the server is down files are kept, and uploaded once it is back", T, async () => {
      const dir = tempDir();
      const prefix = `${runtime}/down/`;
      let tap: Tapline | undefined;
      let down = false;
      try {
        await s3.stop();
        down = true;
        tap = await startArchiving(runtime, dir, prefix);
        const N = 40;
        await traffic(tap, N);
        const t = tap;
        await until(
          async () => ((await s3Metrics(t))["tapline_s3_upload_failures_total"]! >= 1 ? true : undefined),
          WAIT_MS,
          () => `a failed upload while the server is down\n${t.stderrTail()}`,
        );
        const logged = loggedRotations(tap);
        assert.ok(logged.length >= 2, `rotations: ${logged}`);
        assert.deepEqual(localRotated(dir).sort(), [...logged].sort(), "every rotated file is kept while S3 is down");
        assert.ok((await s3Metrics(tap))["tapline_s3_files_pending"]! >= 1);

        await s3.start();
        down = false;
        // Retries back off from 1 s: bounded well within this wait.
        const metrics = await until(
          async () => {
            const m = await s3Metrics(t);
            return localRotated(dir).length === 0 && m["tapline_s3_files_pending"] === 0 ? m : undefined;
          },
          12_000,
          () => `uploads after the server came back; still local: ${localRotated(dir)}\n${t.stderrTail()}`,
        );
        const rotations = loggedRotations(tap);
        const keys = await keysUnder(prefix);
        assert.deepEqual(keys, rotations.map((n) => prefix + n).sort());
        assert.equal(metrics["tapline_s3_uploads_total"], rotations.length);
        assert.equal(metrics["tapline_s3_uploaded_bytes_total"], await objectBytes(keys));
        assert.ok(metrics["tapline_s3_upload_failures_total"]! >= 1);
        const { code } = await tap.stop();
        assert.equal(code, 0, tap.stderrTail());
        await assertAccountedFor(dir, prefix, rotations, N);
      } finally {
        if (down) await s3.start();
        await tap?.kill();
        removeDir(dir);
      }
    });
  });
}
