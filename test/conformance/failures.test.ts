/** Upstream failures and clients that go away mid-response. */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "./harness/client.ts";
import { marker, proxySpec, tearDown, tempDir } from "./harness/fixture.ts";
import { assertAllValid, recordFor, waitForRecords } from "./harness/records.ts";
import { runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import { deadPort, startUpstream, type Upstream } from "./harness/upstream.ts";

const T = { timeout: 30_000 };

/** GET `url`, destroy the socket as soon as the first body chunk arrives; resolves with that chunk. */
function readFirstChunkThenDisconnect(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      res.once("data", (chunk: Buffer) => {
        req.destroy();
        resolve(chunk.toString("utf8"));
      });
      res.on("error", () => {});
    });
    req.on("error", (err) => {
      if (!req.destroyed) reject(err);
    });
    req.setTimeout(10_000, () => req.destroy(new Error("no first chunk within 10 s")));
    req.end();
  });
}

for (const runtime of runtimes) {
  describe(`${runtime}: upstream failures and client disconnects`, { timeout: 90_000 }, () => {
    let up: Upstream;
    let tap: Tapline;
    let dir: string;
    let deadUrl: string;
    const file = (route: string) => join(dir, `${route}.jsonl`);

    before(async () => {
      up = await startUpstream("u1");
      dir = tempDir();
      deadUrl = `http://127.0.0.1:${await deadPort()}`;
      tap = await startTapline(runtime, [
        "--proxy",
        proxySpec({ name: "dead", upstream: deadUrl, log_jsonl: `${dir}/` }),
        "--proxy",
        proxySpec({ name: "secret", upstream: deadUrl.replace("://", "://user:S3CRET-pw@"), log_jsonl: `${dir}/` }),
        "--proxy",
        proxySpec({ name: "live", upstream: up.url, log_jsonl: `${dir}/` }),
      ]);
    });

    after(() => tearDown(tap, [up], dir));

    test("an upstream's credentials reach neither the client, nor the log, nor the record", T, async () => {
      const m = marker("secret");
      const res = await request(tap.url("secret", `/x?m=${m}`), { headers: { "x-request-id": m } });
      assert.equal(res.status, 502);
      assert.equal(res.body.toString("utf8"), `Bad Gateway: the upstream did not answer (request ${m})\n`);
      const record = await recordFor(file("secret"), m);
      assert.equal(record.upstream, deadUrl.replace("://", "://***@"));
      assert.ok(!JSON.stringify(record).includes("S3CRET"), JSON.stringify(record));
      const logs = JSON.stringify(tap.logs);
      assert.ok(logs.includes(deadUrl.replace("://", "://***@")), "the listening line names the upstream");
      assert.ok(!logs.includes("S3CRET") && !tap.stderrTail(100_000).includes("S3CRET"), "no secret in any log line");
    });

    test("a dead upstream gives the client 502 and a record with error and status 502", T, async () => {
      const m = marker("dead");
      const res = await request(tap.url("dead", `/x?m=${m}`));
      assert.equal(res.status, 502);
      const record = await recordFor(file("dead"), m);
      assert.equal(typeof record.error, "string");
      assert.ok((record.error ?? "").length > 0, "error is a non-empty string");
      assert.equal(record.response?.status, 502);
      assert.ok(record.upstream === deadUrl || record.upstream === `${deadUrl}/`);
      assert.equal(record.route_name, "dead");
    });

    test("a POST to a dead upstream is answered 502 and recorded", T, async () => {
      const m = marker("deadpost");
      const res = await request(tap.url("dead", `/x?m=${m}`), { method: "POST", body: "payload" });
      assert.equal(res.status, 502);
      const record = await recordFor(file("dead"), m);
      assert.ok((record.error ?? "").length > 0);
      assert.equal(record.request.method, "POST");
      assert.equal(record.response?.status, 502);
    });

    test("a client that disconnects mid-response gives a record with disconnected: true", T, async () => {
      const m = marker("disc");
      const first = await readFirstChunkThenDisconnect(tap.url("live", `/slow?chunks=30&interval=100&m=${m}`));
      assert.match(first, /^chunk 0/);
      const [record] = await waitForRecords(file("live"), (r) => r.request.url.includes(m), 1, 8_000);
      assert.ok(record);
      assert.equal(record.disconnected, true, `record: ${JSON.stringify(record)}`);
      assert.equal(record.response?.status, 200);
    });

    test("the proxy still serves after a failure and a disconnect", T, async () => {
      const m = marker("after");
      const res = await request(tap.url("live", `/ok?m=${m}`));
      assert.equal(res.status, 200);
      await recordFor(file("live"), m);
    });

    test("records validate against the schema", T, () => {
      assert.ok(assertAllValid([file("dead"), file("live")]) >= 4);
    });
  });
}
