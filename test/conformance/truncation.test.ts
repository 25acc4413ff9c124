/** Capture truncation at --max-body-size 1KB: forwarding is never cut, the capture is. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "./harness/client.ts";
import { marker, proxySpec, tearDown, tempDir } from "./harness/fixture.ts";
import { assertAllValid, bodyBytes, recordFor } from "./harness/records.ts";
import { runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import { sha256, startUpstream, textBytes, type Upstream } from "./harness/upstream.ts";

const T = { timeout: 30_000 };

for (const runtime of runtimes) {
  describe(`${runtime}: body capture truncation`, { timeout: 90_000 }, () => {
    let up: Upstream;
    let tap: Tapline;
    let dir: string;
    let file: string;

    before(async () => {
      up = await startUpstream("u1");
      dir = tempDir();
      file = join(dir, "api.jsonl");
      tap = await startTapline(runtime, [
        "--max-body-size",
        "1KB",
        "--proxy",
        proxySpec({ name: "api", upstream: up.url, log_jsonl: file }),
      ]);
    });

    after(() => tearDown(tap, [up], dir));

    test("a 10 KB text response reaches the client whole; the record keeps 1024 bytes", T, async () => {
      const m = marker("trunc");
      const res = await request(tap.url("api", `/bytes/10240?kind=text&m=${m}`));
      assert.equal(res.status, 200);
      assert.equal(res.body.length, 10240, "the client gets all 10 KB");
      assert.equal(sha256(res.body), res.headers["x-body-sha256"]);
      const r = (await recordFor(file, m)).response;
      assert.ok(r, "record has a response");
      assert.equal(r.body_truncated, true);
      assert.equal(r.body_size, 10240, "body_size is the full size on the wire");
      assert.notEqual(r.body_base64, true);
      assert.equal(r.body?.length, 1024, "captured text is cut at 1024 bytes");
      assert.equal(r.body, res.body.subarray(0, 1024).toString("utf8"));
    });

    test("a 10 KB request body reaches the upstream whole; the record keeps 1024 bytes", T, async () => {
      const m = marker("treq");
      const body = textBytes(10240);
      const res = await request(tap.url("api", `/upload?m=${m}`), { method: "POST", body });
      assert.equal(res.status, 200);
      assert.equal(up.one(m).sha256, sha256(body), "the upstream gets all 10 KB");
      const req = (await recordFor(file, m)).request;
      assert.equal(req.body_truncated, true);
      assert.equal(req.body_size, 10240);
      assert.equal(req.body, body.subarray(0, 1024).toString("utf8"));
    });

    test("a truncated binary body decodes to the first 1024 bytes", T, async () => {
      const m = marker("tbin");
      const res = await request(tap.url("api", `/bytes/10240?kind=binary&m=${m}`));
      assert.equal(res.body.length, 10240);
      assert.equal(sha256(res.body), res.headers["x-body-sha256"]);
      const r = (await recordFor(file, m)).response;
      assert.equal(r?.body_base64, true);
      assert.equal(r?.body_truncated, true);
      assert.equal(r?.body_size, 10240);
      assert.ok(bodyBytes(r).equals(res.body.subarray(0, 1024)), "base64 decodes to exactly the first 1024 bytes");
    });

    test("bodies at or under the cap are not truncated", T, async () => {
      const m = marker("fit");
      const body = randomBytes(1024);
      await request(tap.url("api", `/reflect?m=${m}`), { method: "POST", body });
      const record = await recordFor(file, m);
      assert.notEqual(record.request.body_truncated, true);
      assert.ok(bodyBytes(record.request).equals(body));
      assert.notEqual(record.response?.body_truncated, true);
      assert.ok(bodyBytes(record.response).equals(body));
    });

    test("records validate against the schema", T, () => {
      assert.ok(assertAllValid([file]) >= 4);
    });
  });
}
