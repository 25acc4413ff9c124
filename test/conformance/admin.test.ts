/** The admin listener (--listen-admin): health and Prometheus metrics; proxy ports intercept nothing. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { getJson, request } from "./harness/client.ts";
import { marker, proxySpec, sleep, tearDown, tempDir } from "./harness/fixture.ts";
import { assertAllValid, recordFor } from "./harness/records.ts";
import { runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import { startUpstream, type Upstream } from "./harness/upstream.ts";

const T = { timeout: 30_000 };

const METRIC_NAMES = [
  "tapline_requests_total",
  "tapline_requests_active",
  "tapline_bytes_received_total",
  "tapline_bytes_sent_total",
  "tapline_upstream_errors_total",
  "tapline_capture_dropped_total",
  "tapline_capture_queue_depth",
  "tapline_upstream_latency_seconds",
  "tapline_uptime_seconds",
  "tapline_build_info",
];

/** The value of the sample line `name{labels} value`, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(series + " ")) return Number(line.slice(series.length + 1).trim().split(/\s+/)[0]);
  }
  return undefined;
}

for (const runtime of runtimes) {
  describe(`${runtime}: admin health and metrics`, { timeout: 90_000 }, () => {
    let up: Upstream;
    let tap: Tapline;
    let dir: string;
    const admin = (path: string) => `http://127.0.0.1:${tap.adminPort()}${path}`;
    const metrics = async () => {
      const res = await request(admin("/_metrics"));
      assert.equal(res.status, 200, `GET /_metrics: ${res.body.toString("utf8").slice(0, 300)}`);
      return { res, text: res.body.toString("utf8") };
    };

    before(async () => {
      up = await startUpstream("u1");
      dir = tempDir();
      tap = await startTapline(runtime, [
        "--listen-admin",
        "127.0.0.1:0",
        "--proxy",
        proxySpec({ name: "api", upstream: up.url, log_jsonl: `${dir}/` }),
        "--proxy",
        proxySpec({ name: "other", upstream: up.url, log_jsonl: `${dir}/` }),
      ]);
    });

    after(() => tearDown(tap, [up], dir));

    test("GET /_health on the admin port answers 200 with status, version, uptime and proxies", T, async () => {
      const { res, json } = await getJson(admin("/_health"));
      assert.match(String(res.headers["content-type"]), /^application\/json/);
      const health = json as Record<string, unknown>;
      assert.equal(health["status"], "healthy");
      assert.equal(typeof health["version"], "string");
      assert.ok((health["version"] as string).length > 0);
      assert.equal(typeof health["uptime"], "string");
      assert.equal(health["proxies"], 2);
    });

    test('after exactly 3 requests through route api, tapline_requests_total{route="api"} is 3', T, async () => {
      const before = sample((await metrics()).text, `tapline_requests_total{route="api"}`);
      assert.ok(before === undefined || before === 0, `no api requests yet (got ${before})`);
      for (let i = 0; i < 3; i++) assert.equal((await request(tap.url("api", `/count?i=${i}`))).status, 200);
      // Counters may be bumped when the exchange ends, just after the client has the response.
      let text = "";
      for (let i = 0; i < 40; i++) {
        text = (await metrics()).text;
        if (sample(text, `tapline_requests_total{route="api"}`) === 3) break;
        await sleep(50);
      }
      assert.match(text, /^tapline_requests_total\{route="api"\} 3$/m, `metrics:\n${text}`);
    });

    test("GET /_metrics is Prometheus text with every documented metric", T, async () => {
      const { res, text } = await metrics();
      assert.match(String(res.headers["content-type"]), /^text\/plain/);
      for (const name of METRIC_NAMES) {
        assert.match(text, new RegExp(`^# TYPE ${name} \\w+$`, "m"), `# TYPE line for ${name}`);
        assert.match(text, new RegExp(`^${name}(_bucket|_sum|_count)?(\\{[^}]*\\})? \\S+`, "m"), `a sample of ${name}`);
      }
      assert.match(text, /^# TYPE tapline_upstream_latency_seconds histogram$/m);
      assert.match(text, /^tapline_upstream_latency_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} \d+/m);
      assert.match(text, /^tapline_upstream_latency_seconds_sum(\{[^}]*\})? \S+/m);
      assert.match(text, /^tapline_upstream_latency_seconds_count(\{[^}]*\})? \d+/m);
      assert.match(text, /^# TYPE tapline_requests_total counter$/m);
      assert.match(text, /^# TYPE tapline_requests_active gauge$/m);
      assert.match(text, /^tapline_build_info(\{[^}]*\})? 1$/m);
    });

    test("GET /_health and /_metrics on a proxy port are forwarded to the upstream", T, async () => {
      for (const path of ["/_health", "/_metrics"]) {
        const m = marker("intercept");
        const res = await request(tap.url("other", `${path}?m=${m}`));
        assert.equal(res.status, 200);
        assert.equal(res.headers["x-upstream"], "u1", `${path} answered by the upstream, not by tapline`);
        assert.equal(up.one(m).url, `${path}?m=${m}`);
        assert.equal((JSON.parse(res.body.toString("utf8")) as { url: string }).url, `${path}?m=${m}`);
        await recordFor(join(dir, "other.jsonl"), m);
      }
    });

    test("records validate against the schema", T, () => {
      assert.ok(assertAllValid([join(dir, "api.jsonl"), join(dir, "other.jsonl")]) >= 5);
    });
  });
}
