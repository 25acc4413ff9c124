/**
 * An https upstream with a self-signed certificate: accepted by default
 * (`--insecure-skip-verify` defaults to true, as in http-tap-proxy), refused
 * with a 502 and an error record when verification is turned on. WebSocket
 * upgrades go to it over wss:// under the same rule.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
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
      const wss = new WebSocketServer({ server: upstream });
      wss.on("connection", (socket, req) => {
        seen.push(req.url ?? "");
        socket.on("message", (data, binary) => socket.send(data, { binary }));
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

    test("a WebSocket upgrade goes to the https upstream over wss://, verified only when asked", T, async () => {
      const m = marker("wss");
      const echoed = await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(lenient.url("lenient", `/ws?m=${m}`).replace(/^http:/, "ws:"));
        const timer = setTimeout(() => reject(new Error("no echo over wss within 5 s")), 5_000);
        ws.on("open", () => ws.send(`hello ${m}`));
        ws.on("message", (data) => {
          clearTimeout(timer);
          ws.close();
          resolve(String(data));
        });
        ws.on("error", reject);
      });
      assert.equal(echoed, `hello ${m}`);
      assert.ok(seen.includes(`/ws?m=${m}`), "the upgrade reached the upstream");
      const record = await recordFor(join(dir, "lenient.jsonl"), m);
      assert.equal(record.response?.status, 101);

      const refused = marker("wss-strict");
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(strict.url("strict", `/ws?m=${refused}`).replace(/^http:/, "ws:"));
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.on("open", () => reject(new Error("the unverified upstream was accepted")));
        ws.on("error", () => {});
      });
      assert.equal(status, 502);
      assert.ok(!seen.includes(`/ws?m=${refused}`), "no upgrade reached the upstream unverified");
      const strictRecord = await recordFor(join(dir, "strict.jsonl"), refused);
      assert.equal(strictRecord.response?.status, 502);
      assert.ok(strictRecord.error, "the record names the failure");
    });
  });
}
