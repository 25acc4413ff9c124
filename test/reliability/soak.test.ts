/**
 * Soak: many requests at many connections through tapline on each runtime
 * (5,000 at 64 in CI; 100,000 at 256 with TAPLINE_RELIABILITY=full). No
 * request fails; records = requests answered = upstream hits; nothing
 * dropped. Peak RSS, p99 and the slowest request are reported to
 * test/artifacts/soak-<runtime>.json (the table in test/reliability/README.md).
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "../conformance/harness/client.ts";
import { proxySpec, removeDir, sleep, tempDir } from "../conformance/harness/fixture.ts";
import { repoRoot, runtimes } from "../conformance/harness/runtimes.ts";
import { startTapline, type Tapline } from "../conformance/harness/tapline.ts";
import { startUpstream, type Upstream } from "../conformance/harness/upstream.ts";
import { load, peakRssMb, quantile } from "./load.ts";
import { scale } from "./scale.ts";

const TOTAL = scale(20_000, 100_000);
const CONNECTIONS = scale(128, 256);
/** `TAPLINE_SOAK_WORKERS=2` runs the soak against `--workers 2` (the figures name it). */
const WORKERS = Number(process.env["TAPLINE_SOAK_WORKERS"] ?? "1");

function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

for (const runtime of runtimes) {
  describe(`${runtime}: soak`, { timeout: 900_000 }, () => {
    let up: Upstream;
    let tap: Tapline | undefined;
    let dir = "";

    before(async () => {
      up = await startUpstream("soak");
      dir = tempDir("tapline-soak-");
      tap = await startTapline(runtime, [
        "--listen-admin",
        "127.0.0.1:0",
        "--data-dir",
        join(dir, "data"),
        ...(WORKERS > 1 ? ["--workers", String(WORKERS)] : []),
        "--proxy",
        proxySpec({ name: "api", upstream: up.url, log_jsonl: join(dir, "api.jsonl") }),
      ], { readyTimeoutMs: 40_000 });
    });

    after(async () => {
      try {
        if (tap) assert.equal((await tap.stop()).code, 0, tap.stderrTail());
      } finally {
        await up?.close();
        removeDir(dir);
      }
    });

    test(`${TOTAL} requests at ${CONNECTIONS} connections: none fails, every one recorded once, nothing dropped`, {
      timeout: 900_000,
    }, async () => {
      const started = performance.now();
      const result = await load(tap!.port("api"), { total: TOTAL, connections: CONNECTIONS, prefix: "soak" });
      const seconds = (performance.now() - started) / 1000;
      assert.equal(result.failed, 0, `${result.failed} requests failed`);
      assert.equal(result.ok, TOTAL);
      // Records reach the file within a flush or two.
      let metrics = "";
      for (let i = 0; i < 100; i++) {
        metrics = (await request(`http://127.0.0.1:${tap!.adminPort()}/_metrics`)).body.toString("utf8");
        if (sample(metrics, 'tapline_records_written_total{route="api"}') >= TOTAL) break;
        await sleep(100);
      }
      const written = sample(metrics, 'tapline_records_written_total{route="api"}');
      const dropped = ["queue_full", "write_error", "shutdown", "plugin"].reduce(
        (sum, reason) => sum + sample(metrics, `tapline_capture_dropped_total{route="api",reason="${reason}"}`),
        0,
      );
      // The live file and any rotated ones (api-<time>.jsonl).
      const lines = readdirSync(dir).filter((name) => /^api.*\.jsonl$/.test(name)).flatMap((name) =>
        readFileSync(join(dir, name), "utf8").split("\n").filter((line) => line !== "")
      );
      const urls = new Set(lines.map((line) => (JSON.parse(line) as { request: { url: string } }).request.url));
      const figures = {
        runtime,
        date: new Date().toISOString().slice(0, 10),
        requests: TOTAL,
        connections: CONNECTIONS,
        workers: WORKERS,
        seconds: Number(seconds.toFixed(1)),
        requests_per_second: Math.round(TOTAL / seconds),
        p50_ms: Number(quantile(result.latencies, 0.5).toFixed(2)),
        p99_ms: Number(quantile(result.latencies, 0.99).toFixed(2)),
        max_ms: Number((result.latencies.at(-1) ?? 0).toFixed(1)),
        over_2s: result.latencies.filter((ms) => ms > 2000).length,
        peak_rss_mb: await peakRssMb(tap!.child.pid!),
        records: lines.length,
        upstream_hits: up.requests.length,
        dropped,
      };
      mkdirSync(join(repoRoot, "test", "artifacts"), { recursive: true });
      writeFileSync(
        join(repoRoot, "test", "artifacts", `soak-${runtime}${WORKERS > 1 ? `-workers${WORKERS}` : ""}.json`),
        JSON.stringify(figures, null, 2) + "\n",
      );
      console.log(JSON.stringify(figures));
      assert.equal(dropped, 0);
      assert.equal(written, TOTAL);
      assert.equal(lines.length, TOTAL, "one line per request");
      assert.equal(urls.size, TOTAL, "each request recorded once");
      assert.equal(up.requests.length, TOTAL, "each request reached the upstream once");
    });
  });
}
