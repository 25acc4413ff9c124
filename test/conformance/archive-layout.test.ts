/**
 * Many instances, one bucket, on each runtime: two tapline processes with
 * different instance ids and the same prefix rotate every 100 ms under load
 * and archive to the verifying S3 server with the default layout
 * (`route=/date=/hour=` partitions, `<instance>-<rotation time>-<seq>`,
 * gzip). Every rotated file is in the bucket exactly once, none
 * overwritten; keys match the template; objects decompress to whole records;
 * the records in the bucket and left locally are exactly those both wrote.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import { request } from "./harness/client.ts";
import { proxySpec, removeDir, sleep, tempDir } from "./harness/fixture.ts";
import { runtimes } from "./harness/runtimes.ts";
import { awsEnvironment, s3Args, type S3TestServer, startS3TestServer } from "./harness/s3-server.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import { startUpstream, type Upstream } from "./harness/upstream.ts";

const T = { timeout: 90_000 };
const LOAD_MS = 3_000;
const KEY =
  /^(?<prefix>many\/[a-z]+\/)route=api\/date=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/(?<instance>node-[ab])-(\d{8}T\d{6}\.\d{3}Z(?:_\d+)?)-(\d+)\.jsonl\.gz$/;

let s3: S3TestServer;
let up: Upstream;
before(async () => {
  s3 = await startS3TestServer();
  up = await startUpstream("many");
});
after(async () => {
  await s3?.close();
  await up?.close();
});

for (const runtime of runtimes) {
  describe(`${runtime}: two instances archiving to one bucket`, { timeout: 120_000 }, () => {
    const dirs: string[] = [];
    const taps: Tapline[] = [];
    after(async () => {
      for (const tap of taps) await tap.kill();
      for (const dir of dirs) removeDir(dir);
    });

    test("every rotated file exactly once, keys by the template, gzip of whole records, counts equal", T, async () => {
      const prefix = `many/${runtime}/`;
      for (const instance of ["node-a", "node-b"]) {
        const dir = tempDir(`tapline-many-${instance}-`);
        dirs.push(dir);
        taps.push(
          await startTapline(runtime, [
            "--data-dir",
            join(dir, "data"),
            "--instance-id",
            instance,
            "--rotate-interval",
            "100ms",
            "--flush-interval",
            "20ms",
            "--shutdown-timeout",
            "5s",
            ...s3Args(s3, prefix),
            "--proxy",
            // The same file name on both: only the instance id keeps their keys apart.
            proxySpec({ name: "api", upstream: up.url, log_jsonl: join(dir, "api.jsonl") }),
          ], { env: awsEnvironment(s3) }),
        );
      }
      // Load on both for a while: many rotations on each, some in the same millisecond across instances.
      let sent = 0;
      const until = performance.now() + LOAD_MS;
      while (performance.now() < until) {
        await Promise.all(taps.map(async (tap) => {
          const res = await request(tap.url("api", `/many/${sent++}`));
          assert.equal(res.status, 200);
        }));
      }
      // Stop both (uploads in progress finish) and let queued ones drain: a last rotation may stay local.
      await sleep(1_500);
      for (const tap of taps) assert.equal((await tap.stop()).code, 0, tap.stderrTail());

      const rotations = taps.flatMap((tap) =>
        tap.logs.filter((line) => line.msg === "S3 upload done").map((line) => String(line["object"]))
      );
      const keys = (await s3.listKeys()).filter((key) => key.startsWith(prefix));
      assert.ok(keys.length >= 10, `${keys.length} objects`);
      assert.equal(new Set(rotations).size, rotations.length, "no object uploaded twice");
      assert.deepEqual([...rotations].map((o) => o.replace(`s3://${s3.bucket}/`, "")).sort(), [...keys].sort());
      const byInstance = { "node-a": 0, "node-b": 0 };
      const urls: string[] = [];
      for (const key of keys) {
        const match = KEY.exec(key);
        assert.ok(match, `${key} follows the template`);
        byInstance[match.groups!["instance"] as "node-a" | "node-b"]++;
        const text = gunzipSync((await s3.getObject(key))!).toString("utf8");
        assert.ok(text.endsWith("\n"));
        for (const line of text.split("\n").slice(0, -1)) {
          urls.push((JSON.parse(line) as { request: { url: string } }).request.url);
        }
      }
      assert.ok(byInstance["node-a"] > 0 && byInstance["node-b"] > 0, JSON.stringify(byInstance));
      // What was not uploaded yet is still local: the live file and any rotated file left for the next start.
      for (const dir of dirs) {
        for (const name of readdirSync(dir).filter((n) => n.startsWith("api") && n.endsWith(".jsonl"))) {
          for (const line of readFileSync(join(dir, name), "utf8").split("\n").filter((l) => l !== "")) {
            urls.push((JSON.parse(line) as { request: { url: string } }).request.url);
          }
        }
        assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith(".gz")), [], "no compressed copy left behind");
      }
      assert.equal(urls.length, sent, "every record once, in the bucket or still local");
      assert.equal(new Set(urls).size, sent);
    });

    test("--s3-format parquet: rotated JSONL arrives as Parquet that DuckDB reads, every record once", T, async () => {
      const prefix = `parquet/${runtime}/`;
      const dir = tempDir("tapline-parquet-");
      dirs.push(dir);
      const tap = await startTapline(runtime, [
        "--data-dir",
        join(dir, "data"),
        "--instance-id",
        "pq-1",
        "--s3-format",
        "parquet",
        "--rotate-interval",
        "200ms",
        "--flush-interval",
        "20ms",
        ...s3Args(s3, prefix),
        "--proxy",
        proxySpec({ name: "api", upstream: up.url, log_jsonl: join(dir, "api.jsonl") }),
      ], { env: awsEnvironment(s3) });
      taps.push(tap);
      let sent = 0;
      const until = performance.now() + 1_500;
      while (performance.now() < until) assert.equal((await request(tap.url("api", `/pq/${sent++}`))).status, 200);
      await sleep(1_000);
      assert.equal((await tap.stop()).code, 0, tap.stderrTail());
      const keys = (await s3.listKeys()).filter((key) => key.startsWith(prefix));
      assert.ok(keys.length >= 2, `${keys.length} objects`);
      const local = join(dir, "from-bucket");
      mkdirSync(local);
      for (const [i, key] of keys.entries()) {
        assert.match(key, /\/pq-1-\d{8}T\d{6}\.\d{3}Z(?:_\d+)?-0\.parquet$/);
        writeFileSync(join(local, `${i}.parquet`), (await s3.getObject(key))!);
      }
      const duck = await (await DuckDBInstance.create(":memory:")).connect();
      const rows = (await duck.runAndReadAll(
        `SELECT count(*) AS n, count(DISTINCT url) AS urls FROM read_parquet('${local}/*.parquet') WHERE type = 'http'`,
      )).getRowObjectsJson();
      duck.closeSync();
      const stillLocal = readdirSync(dir).filter((n) => n.startsWith("api") && n.endsWith(".jsonl"))
        .flatMap((n) => readFileSync(join(dir, n), "utf8").split("\n").filter((l) => l !== "")).length;
      assert.equal(Number(rows[0]!["n"]) + stillLocal, sent, JSON.stringify(rows));
      assert.equal(Number(rows[0]!["urls"]), Number(rows[0]!["n"]));
      assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith(".parquet")), [], "no converted copy left behind");
    });
  });
}
