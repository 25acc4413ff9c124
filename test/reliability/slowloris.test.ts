/**
 * Slowloris: many connections that send a request head a byte at a time and
 * never finish it, held open for a while, on each runtime (100 for 5 s in
 * CI; 200 for 20 s with TAPLINE_RELIABILITY=full). A normal client asking
 * every 100 ms is served in under 200 ms throughout.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "../conformance/harness/client.ts";
import { proxySpec, removeDir, sleep, tempDir } from "../conformance/harness/fixture.ts";
import { runtimes } from "../conformance/harness/runtimes.ts";
import { startTapline, type Tapline } from "../conformance/harness/tapline.ts";
import { startUpstream, type Upstream } from "../conformance/harness/upstream.ts";
import { quantile } from "./load.ts";
import { scale } from "./scale.ts";

const SLOW = scale(100, 200);
const HOLD_MS = scale(5_000, 20_000);
const HEAD = "GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: ";

for (const runtime of runtimes) {
  describe(`${runtime}: slowloris`, { timeout: 120_000 }, () => {
    let up: Upstream;
    let tap: Tapline | undefined;
    let dir = "";

    before(async () => {
      up = await startUpstream("slowloris");
      dir = tempDir("tapline-slowloris-");
      tap = await startTapline(runtime, [
        "--data-dir",
        join(dir, "data"),
        "--proxy",
        proxySpec({ name: "api", upstream: up.url, log_jsonl: join(dir, "api.jsonl") }),
      ]);
    });

    after(async () => {
      try {
        if (tap) assert.equal((await tap.stop()).code, 0, tap.stderrTail());
      } finally {
        await up?.close();
        removeDir(dir);
      }
    });

    test(`${SLOW} slow connections for ${HOLD_MS / 1000} s: a normal client is served in under 200 ms`, {
      timeout: 120_000,
    }, async () => {
      const port = tap!.port("api");
      const sockets: Socket[] = [];
      for (let i = 0; i < SLOW; i++) {
        const socket = connect(port, "127.0.0.1");
        socket.on("error", () => {});
        sockets.push(socket);
      }
      let sent = 0;
      const drip = setInterval(() => {
        // One more byte of an endless header on every connection.
        for (const socket of sockets) if (!socket.destroyed) socket.write(sent === 0 ? HEAD : "a");
        sent++;
      }, 250);
      const latencies: number[] = [];
      const failures: string[] = [];
      const until = performance.now() + HOLD_MS;
      try {
        while (performance.now() < until) {
          const started = performance.now();
          const res = await request(tap!.url("api", `/normal/${latencies.length}`), { timeoutMs: 5000 });
          if (res.status !== 200) failures.push(`status ${res.status}`);
          latencies.push(performance.now() - started);
          await sleep(100);
        }
      } finally {
        clearInterval(drip);
      }
      const open = sockets.filter((socket) => !socket.destroyed).length;
      for (const socket of sockets) socket.destroy();
      latencies.sort((a, b) => a - b);
      const slowest = latencies.at(-1) ?? 0;
      console.log(
        JSON.stringify({
          runtime,
          slow: SLOW,
          open_at_end: open,
          normal: latencies.length,
          p50_ms: quantile(latencies, 0.5),
          max_ms: slowest,
        }),
      );
      assert.deepEqual(failures, []);
      assert.ok(latencies.length > HOLD_MS / 400, `${latencies.length} normal requests`);
      assert.ok(slowest < 200, `the slowest normal request took ${slowest.toFixed(0)} ms`);
      assert.equal(
        up.requests.filter((r) => r.url.startsWith("/slow")).length,
        0,
        "no slow request reached the upstream",
      );
    });
  });
}
