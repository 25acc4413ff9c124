/**
 * The admin listener (--listen-admin): health and Prometheus metrics; proxy ports intercept nothing; every
 * other path needs a bearer token (generated into <data dir>/admin_token when none is configured).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type ClientResponse, getJson, request } from "./harness/client.ts";
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
      // The same count under http-tap-proxy's name, for dashboards written for it.
      assert.match(text, /^http_tap_proxy_requests_total\{route="api"\} 3$/m);
      assert.match(text, /^http_tap_proxy_upstream_latency_avg_microseconds\{route="api"\} \d+\.\d\d$/m);
      assert.match(text, /^http_tap_proxy_uptime_seconds \d+\.\d\d$/m);
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

const READ_TOKEN = "read-token-for-conformance-0123456789";
const ADMIN_TOKEN = "admin-token-for-conformance-0123456789";
const ENV_TOKEN = "env-token-for-conformance-0123456789";

/** The `{ error: { code, message } }` body of an admin API refusal, checked for shape and caching. */
function refusal(res: ClientResponse, status: number, code: string): string {
  const text = res.body.toString("utf8");
  assert.equal(res.status, status, text);
  assert.equal(res.headers["cache-control"], "no-store", text);
  const body = JSON.parse(text) as { error: { code: string; message: string } };
  assert.equal(body.error.code, code, text);
  assert.equal(typeof body.error.message, "string");
  return body.error.message;
}

for (const runtime of runtimes) {
  describe(`${runtime}: admin API authentication`, { timeout: 120_000 }, () => {
    let up: Upstream;
    let tap: Tapline | undefined;
    let dir: string;
    let dataDir: string;
    let token = "";
    const admin = (path: string) => `http://127.0.0.1:${tap!.adminPort()}${path}`;
    const bearer = (value: string) => ({ headers: { authorization: `Bearer ${value}` } });
    const start = (args: string[], env: Record<string, string> = {}) =>
      startTapline(
        runtime,
        ["--listen-admin", "127.0.0.1:0", "--proxy", proxySpec({ name: "api", upstream: up.url }), ...args],
        { env },
      );
    const restart = async (args: string[], env: Record<string, string> = {}) => {
      const previous = tap;
      tap = undefined;
      if (previous) assert.equal((await previous.stop()).code, 0, previous.stderrTail());
      tap = await start(args, env);
      return tap;
    };

    before(async () => {
      up = await startUpstream("u1");
      dir = tempDir();
      // A folder that does not exist yet: tapline creates it.
      dataDir = join(dir, "state", "tapline");
      tap = await start(["--data-dir", dataDir]);
    });

    after(() => tearDown(tap, [up], dir));

    test(
      "without a configured token, <data dir>/admin_token is created with mode 0600 and is a bearer token",
      T,
      async () => {
        const file = join(dataDir, "admin_token");
        assert.equal(statSync(file).mode & 0o777, 0o600, "mode of admin_token");
        token = readFileSync(file, "utf8").trim();
        assert.match(token, /^[0-9a-f]{64}$/);
        const logged = tap!.logs.find((l) => l.msg === "admin token generated");
        assert.equal(logged?.["file"], file, tap!.stderrTail());
        const res = await request(admin("/api/whoami"), bearer(token));
        assert.equal(res.status, 200, res.body.toString("utf8"));
        assert.deepEqual(JSON.parse(res.body.toString("utf8")), { scope: "admin" });
        assert.equal(res.headers["cache-control"], "no-store");
      },
    );

    test("401 without a token and with a wrong one, on known and unknown paths; 404 only with a token", T, async () => {
      for (const path of ["/api/whoami", "/api/not-a-route", "/"]) {
        const res = await request(admin(path));
        refusal(res, 401, "unauthorized");
        assert.match(String(res.headers["www-authenticate"]), /^Bearer\b/, path);
        refusal(await request(admin(path), bearer("wrong-token-0123456789abcdef")), 401, "unauthorized");
        refusal(await request(admin(path), bearer(token.slice(0, -1))), 401, "unauthorized");
      }
      refusal(await request(admin("/api/not-a-route"), bearer(token)), 404, "not_found");
    });

    test("a token in the query string is refused with 400, pointing at the Authorization header", T, async () => {
      for (const query of ["token=abc", "access_token=abc", `q=${token}`]) {
        const message = refusal(await request(admin(`/api/whoami?${query}`), bearer(token)), 400, "token_in_query");
        assert.match(message, /Authorization/);
      }
      refusal(await request(admin(`/_health?token=${token}`)), 400, "token_in_query");
    });

    test(
      "a foreign Host is refused with 403; localhost is answered; health and metrics answer any Host",
      T,
      async () => {
        const port = tap!.adminPort();
        const foreign = await request(admin("/api/whoami"), {
          headers: { host: `rebind.example:${port}`, authorization: `Bearer ${token}` },
        });
        assert.match(refusal(foreign, 403, "host_not_allowed"), /^Host not allowed/);
        const local = await request(admin("/api/whoami"), {
          headers: { host: `localhost:${port}`, authorization: `Bearer ${token}` },
        });
        assert.equal(local.status, 200, local.body.toString("utf8"));
        for (const path of ["/_health", "/_metrics"]) {
          assert.equal((await request(admin(path), { headers: { host: "probe.example" } })).status, 200, path);
        }
      },
    );

    test("the token never appears on stderr", T, () => {
      assert.ok(token.length === 64);
      assert.ok(!tap!.stderr.includes(token), tap!.stderrTail());
    });

    test("a restart reuses the token file", T, async () => {
      const file = join(dataDir, "admin_token");
      const before = readFileSync(file, "utf8");
      await restart(["--data-dir", dataDir]);
      assert.equal(readFileSync(file, "utf8"), before);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.ok(tap!.logs.some((l) => l.msg === "admin token reused" && l["file"] === file), tap!.stderrTail());
      assert.equal((await request(admin("/api/whoami"), bearer(token))).status, 200);
      assert.ok(!tap!.stderr.includes(token), tap!.stderrTail());
    });

    test(
      "a read token from --admin-token-file: whoami says read, a write is 403; nothing is generated",
      T,
      async () => {
        const file = join(dir, "tokens");
        writeFileSync(file, `# tokens\n${ADMIN_TOKEN}\nread:${READ_TOKEN}\n`, { mode: 0o600 });
        const otherData = join(dir, "unused-data");
        await restart(["--admin-token-file", file, "--data-dir", otherData]);
        const read = await request(admin("/api/whoami"), bearer(READ_TOKEN));
        assert.deepEqual(JSON.parse(read.body.toString("utf8")), { scope: "read" });
        const write = await request(admin("/api/whoami"), { method: "POST", body: "{}", ...bearer(READ_TOKEN) });
        assert.match(refusal(write, 403, "forbidden"), /^The read scope does not allow POST/);
        assert.match(String(write.headers["www-authenticate"]), /insufficient_scope/);
        const adminWrite = await request(admin("/api/whoami"), { method: "POST", body: "{}", ...bearer(ADMIN_TOKEN) });
        refusal(adminWrite, 404, "not_found");
        refusal(await request(admin("/api/whoami"), bearer(token)), 401, "unauthorized");
        assert.equal(existsSync(otherData), false, "no data dir created when tokens are configured");
        for (const secret of [READ_TOKEN, ADMIN_TOKEN]) assert.ok(!tap!.stderr.includes(secret), tap!.stderrTail());
      },
    );

    test("TAPLINE_ADMIN_TOKEN is an admin token and never appears on stderr", T, async () => {
      await restart(["--data-dir", join(dir, "env-data")], { TAPLINE_ADMIN_TOKEN: ENV_TOKEN });
      const res = await request(admin("/api/whoami"), bearer(ENV_TOKEN));
      assert.deepEqual(JSON.parse(res.body.toString("utf8")), { scope: "admin" });
      refusal(await request(admin("/api/whoami"), bearer("wrong-token-0123456789abcdef")), 401, "unauthorized");
      assert.equal(existsSync(join(dir, "env-data")), false);
      assert.ok(!tap!.stderr.includes(ENV_TOKEN), tap!.stderrTail());
    });
  });
}
