/**
 * An https upstream with a self-signed certificate: accepted by default
 * (`--insecure-skip-verify` defaults to true, as in http-tap-proxy), refused
 * with a 502 and an error record when verification is turned on.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createSelfSignedCertificate } from "../../src/tls/self-signed.ts";
import { request } from "./harness/client.ts";
import { marker, proxySpec, removeDir, tempDir } from "./harness/fixture.ts";
import { assertAllValid, recordFor } from "./harness/records.ts";
import { runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";

const T = { timeout: 30_000 };

for (const runtime of runtimes) {
  describe(`${runtime}: https upstream`, { timeout: 90_000 }, () => {
    let upstream: Server;
    let upstreamUrl: string;
    let lenient: Tapline;
    let strict: Tapline;
    let dir: string;
    const seen: string[] = [];

    before(async () => {
      const { cert, key } = await createSelfSignedCertificate();
      upstream = createServer({ cert, key }, (req, res) => {
        seen.push(req.url ?? "");
        res.writeHead(200, { "content-type": "text/plain", "x-upstream": "tls" });
        res.end(`secure ${req.url}\n`);
      });
      await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
      upstreamUrl = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
      dir = tempDir();
      lenient = await startTapline(runtime, [
        "--proxy",
        proxySpec({ name: "lenient", upstream: upstreamUrl, log_jsonl: join(dir, "lenient.jsonl") }),
      ]);
      strict = await startTapline(runtime, [
        "--insecure-skip-verify=false",
        "--proxy",
        proxySpec({ name: "strict", upstream: upstreamUrl, log_jsonl: join(dir, "strict.jsonl") }),
      ]);
    });

    after(async () => {
      try {
        if (lenient) assert.equal((await lenient.stop()).code, 0, lenient.stderrTail());
        if (strict) assert.equal((await strict.stop()).code, 0, strict.stderrTail());
      } finally {
        upstream?.closeAllConnections();
        await new Promise<void>((resolve) => upstream ? upstream.close(() => resolve()) : resolve());
        removeDir(dir);
      }
    });

    test("by default a self-signed upstream certificate is accepted", T, async () => {
      const m = marker("lenient");
      const res = await request(lenient.url("lenient", `/ok?m=${m}`));
      assert.equal(res.status, 200);
      assert.equal(res.headers["x-upstream"], "tls");
      assert.equal(res.body.toString("utf8"), `secure /ok?m=${m}\n`);
      const record = await recordFor(join(dir, "lenient.jsonl"), m);
      assert.equal(record.upstream, upstreamUrl);
      assert.equal(record.response?.status, 200);
      assert.equal(record.error, undefined);
    });

    test("with --insecure-skip-verify=false the upstream is refused: 502 and an error record", T, async () => {
      const m = marker("strict");
      const before = seen.length;
      const res = await request(strict.url("strict", `/refused?m=${m}`));
      assert.equal(res.status, 502);
      assert.equal(seen.length, before, "no request reached the upstream over an unverified connection");
      const record = await recordFor(join(dir, "strict.jsonl"), m);
      assert.equal(record.response?.status, 502);
      assert.ok(record.error && record.error.length > 0, "the record names the failure");
      assert.ok(assertAllValid([join(dir, "lenient.jsonl"), join(dir, "strict.jsonl")]) >= 2);
    });
  });
}
