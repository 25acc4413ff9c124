import assert from "node:assert/strict";
import { test } from "node:test";
import { createAdminApp } from "../../../src/admin/app.ts";
import { Metrics } from "../../../src/core/metrics.ts";

const BUILD = { version: "0.1.0", runtime: "node", runtimeVersion: "v20.0.0" };

function app(metrics = new Metrics(), paths = { healthPath: "/_health", metricsPath: "/_metrics" }) {
  return createAdminApp({ metrics, build: BUILD, proxyCount: 2, ...paths });
}

test("the health endpoint returns status, version, uptime, proxies and runtime as JSON", async () => {
  const response = await app().request("/_health");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  const body = await response.json() as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ["proxies", "runtime", "status", "uptime", "version"]);
  assert.equal(body.status, "healthy");
  assert.equal(body.version, "0.1.0");
  assert.equal(body.proxies, 2);
  assert.equal(body.runtime, "node");
  assert.match(String(body.uptime), /^(\d+h)?(\d+m)?\d+s$/);
});

test("the health endpoint reports uptime since the metrics started", async () => {
  const metrics = new Metrics();
  (metrics as { startedAt: number }).startedAt = Date.now() - 3_723_000;
  const body = await (await app(metrics).request("/_health")).json() as { uptime: string };
  assert.match(body.uptime, /^1h2m(3|4)s$/);
});

test("the metrics endpoint serves Prometheus text with route counters and the histogram", async () => {
  const metrics = new Metrics();
  const api = metrics.route("api");
  api.requestsTotal = 3;
  api.upstreamLatency.observe(0.004);
  api.upstreamLatency.observe(0.3);
  const response = await app(metrics).request("/_metrics");
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await response.text();
  assert.ok(text.includes('\ntapline_requests_total{route="api"} 3\n'), text);
  assert.ok(text.includes('\ntapline_upstream_latency_seconds_bucket{route="api",le="0.001"} 0\n'));
  assert.ok(text.includes('\ntapline_upstream_latency_seconds_bucket{route="api",le="0.005"} 1\n'));
  assert.ok(text.includes('\ntapline_upstream_latency_seconds_bucket{route="api",le="0.5"} 2\n'));
  assert.ok(text.includes('\ntapline_upstream_latency_seconds_bucket{route="api",le="+Inf"} 2\n'));
  assert.ok(text.includes('\ntapline_upstream_latency_seconds_count{route="api"} 2\n'));
});

test("the admin app serves only the configured paths", async () => {
  const custom = app(new Metrics(), { healthPath: "/healthz", metricsPath: "/prom" });
  assert.equal((await custom.request("/healthz")).status, 200);
  assert.equal((await custom.request("/prom")).status, 200);
  assert.equal((await custom.request("/_health")).status, 404);
  assert.equal((await custom.request("/_metrics")).status, 404);
  assert.equal((await custom.request("/")).status, 404);
});
