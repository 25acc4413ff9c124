import assert from "node:assert/strict";
import { test } from "node:test";
import { renderPrometheus } from "../../../src/admin/prometheus.ts";
import { LATENCY_BUCKETS, Metrics } from "../../../src/core/metrics.ts";

const BUILD = { version: "0.1.0", runtime: "node", runtimeVersion: "v20.0.0" };

/** Sample lines (not comments) of an exposition as [series with labels, value]. */
function samples(text: string): Array<[string, string]> {
  return text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).map((line) => {
    const at = line.lastIndexOf(" ");
    return [line.slice(0, at), line.slice(at + 1)];
  });
}

function sample(text: string, series: string): string | undefined {
  return samples(text).find(([name]) => name === series)?.[1];
}

test("every sample line is well formed and every metric has HELP and TYPE first", () => {
  const metrics = new Metrics();
  metrics.route("api").upstreamLatency.observe(0.02);
  metrics.route("web");
  const text = renderPrometheus(metrics, BUILD);
  assert.ok(text.endsWith("\n"));
  const declared = new Set<string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === "TYPE") {
        assert.match(meta[3]!, /^(counter|gauge|histogram)$/);
        declared.add(meta[2]!);
      }
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)$/.exec(
      line,
    );
    assert.ok(match, `malformed sample line: ${line}`);
    assert.ok(!Number.isNaN(Number(match[3])), line);
    const family = match[1]!.replace(/_(bucket|sum|count)$/, "");
    assert.ok(declared.has(match[1]!) || declared.has(family), `no TYPE before ${line}`);
  }
});

test("route counters carry a route label with their values", () => {
  const metrics = new Metrics();
  const api = metrics.route("api");
  api.requestsTotal = 7;
  api.requestsActive = 2;
  api.bytesReceived = 100;
  api.bytesSent = 2048;
  api.upstreamErrors = 1;
  api.clientDisconnects = 3;
  api.captureBudgetTruncations = 4;
  api.recordsWritten = 5;
  api.captureDropped.queue_full = 6;
  api.captureDropped.write_error = 8;
  metrics.route("web").requestsTotal = 1;
  metrics.queueDepth = () => 12;
  metrics.captureMemoryUsed = () => 4096;
  const text = renderPrometheus(metrics, BUILD);
  assert.equal(sample(text, 'tapline_requests_total{route="api"}'), "7");
  assert.equal(sample(text, 'tapline_requests_total{route="web"}'), "1");
  assert.equal(sample(text, 'tapline_requests_active{route="api"}'), "2");
  assert.equal(sample(text, 'tapline_bytes_received_total{route="api"}'), "100");
  assert.equal(sample(text, 'tapline_bytes_sent_total{route="api"}'), "2048");
  assert.equal(sample(text, 'tapline_upstream_errors_total{route="api"}'), "1");
  assert.equal(sample(text, 'tapline_client_disconnects_total{route="api"}'), "3");
  assert.equal(sample(text, 'tapline_capture_truncated_total{route="api"}'), "4");
  assert.equal(sample(text, 'tapline_records_written_total{route="api"}'), "5");
  assert.equal(sample(text, 'tapline_capture_dropped_total{route="api",reason="queue_full"}'), "6");
  assert.equal(sample(text, 'tapline_capture_dropped_total{route="api",reason="write_error"}'), "8");
  assert.equal(sample(text, 'tapline_capture_dropped_total{route="api",reason="shutdown"}'), "0");
  assert.equal(sample(text, "tapline_capture_queue_depth"), "12");
  assert.equal(sample(text, "tapline_capture_memory_bytes"), "4096");
  assert.equal(sample(text, 'tapline_build_info{version="0.1.0",runtime="node",runtime_version="v20.0.0"}'), "1");
  assert.match(sample(text, "tapline_uptime_seconds") ?? "", /^\d+\.\d{3}$/);
  assert.match(text, /# TYPE tapline_requests_total counter\n/);
  assert.match(text, /# TYPE tapline_requests_active gauge\n/);
});

test("WebSocket and SSE series per route, frames by direction", () => {
  const metrics = new Metrics();
  const api = metrics.route("api");
  api.websocketsTotal = 3;
  api.websocketsActive = 1;
  api.websocketFrames.client_to_server = 11;
  api.websocketFrames.server_to_client = 13;
  api.sseStreamsTotal = 4;
  api.sseStreamsActive = 2;
  api.sseEvents = 17;
  metrics.route("web");
  const text = renderPrometheus(metrics, BUILD);
  assert.equal(sample(text, 'tapline_websocket_connections_total{route="api"}'), "3");
  assert.equal(sample(text, 'tapline_websocket_connections_active{route="api"}'), "1");
  assert.equal(sample(text, 'tapline_websocket_frames_total{route="api",direction="client_to_server"}'), "11");
  assert.equal(sample(text, 'tapline_websocket_frames_total{route="api",direction="server_to_client"}'), "13");
  assert.equal(sample(text, 'tapline_sse_streams_total{route="api"}'), "4");
  assert.equal(sample(text, 'tapline_sse_streams_active{route="api"}'), "2");
  assert.equal(sample(text, 'tapline_sse_events_total{route="api"}'), "17");
  // A route without traffic still exposes zeroes, so rates and absent() behave.
  assert.equal(sample(text, 'tapline_websocket_connections_total{route="web"}'), "0");
  assert.equal(sample(text, 'tapline_websocket_frames_total{route="web",direction="client_to_server"}'), "0");
  assert.equal(sample(text, 'tapline_websocket_frames_total{route="web",direction="server_to_client"}'), "0");
  assert.equal(sample(text, 'tapline_sse_events_total{route="web"}'), "0");
  assert.equal(
    samples(text).filter(([name]) => name.startsWith("tapline_websocket_frames_total{")).length,
    4,
    "two directions per route, nothing else",
  );
  for (
    const [name, type] of [
      ["tapline_websocket_connections_total", "counter"],
      ["tapline_websocket_connections_active", "gauge"],
      ["tapline_websocket_frames_total", "counter"],
      ["tapline_sse_streams_total", "counter"],
      ["tapline_sse_streams_active", "gauge"],
      ["tapline_sse_events_total", "counter"],
    ]
  ) {
    assert.match(text, new RegExp(`# HELP ${name} .+\\n# TYPE ${name} ${type}\\n`), name);
  }
});

test("the latency histogram has cumulative buckets and +Inf equal to its count", () => {
  const metrics = new Metrics();
  const latency = metrics.route("api").upstreamLatency;
  const observed = [0.0005, 0.001, 0.003, 0.003, 0.2, 0.7, 3, 60];
  for (const value of observed) latency.observe(value);
  const text = renderPrometheus(metrics, BUILD);
  assert.match(text, /# TYPE tapline_upstream_latency_seconds histogram\n/);
  const buckets = samples(text).filter(([name]) => name.startsWith("tapline_upstream_latency_seconds_bucket{"));
  assert.equal(buckets.length, LATENCY_BUCKETS.length + 1);
  for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
    const bound = LATENCY_BUCKETS[i]!;
    const [name, value] = buckets[i]!;
    assert.equal(name, `tapline_upstream_latency_seconds_bucket{route="api",le="${bound}"}`);
    assert.equal(Number(value), observed.filter((v) => v <= bound).length, `le=${bound}`);
  }
  assert.deepEqual(buckets.at(-1), ['tapline_upstream_latency_seconds_bucket{route="api",le="+Inf"}', "8"]);
  assert.equal(sample(text, 'tapline_upstream_latency_seconds_count{route="api"}'), "8");
  const sum = Number(sample(text, 'tapline_upstream_latency_seconds_sum{route="api"}'));
  assert.ok(Math.abs(sum - observed.reduce((a, b) => a + b, 0)) < 1e-9, String(sum));
});

test("label values escape backslash, double quote and newline", () => {
  const metrics = new Metrics();
  metrics.route('we"ird\\name\nx').requestsTotal = 2;
  const text = renderPrometheus(metrics, { version: '1.0"\\\n', runtime: "node", runtimeVersion: "v\\1" });
  assert.equal(sample(text, 'tapline_requests_total{route="we\\"ird\\\\name\\nx"}'), "2");
  assert.ok(text.includes('tapline_build_info{version="1.0\\"\\\\\\n",runtime="node",runtime_version="v\\\\1"} 1\n'));
  for (const line of text.split("\n")) assert.ok(!line.startsWith("x"), "a newline in a label must not break the line");
});

test("a process without routes still renders the global metrics", () => {
  const text = renderPrometheus(new Metrics(), BUILD);
  assert.equal(sample(text, "tapline_capture_queue_depth"), "0");
  assert.equal(sample(text, "tapline_capture_memory_bytes"), "0");
  assert.equal(samples(text).filter(([name]) => name.includes("route=")).length, 0);
});
