import assert from "node:assert/strict";
import { test } from "node:test";
import { renderPrometheus } from "../../../src/admin/prometheus.ts";
import { LATENCY_BUCKETS, Metrics } from "../../../src/core/metrics.ts";
import { PluginMetrics } from "../../../src/plugins/metrics.ts";

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

test("plugin counters render with a plugin label, calls by hook, in this exact text", () => {
  const metrics = new Metrics();
  const redact = new PluginMetrics("redact");
  redact.calls.onCapture = 40;
  redact.calls.onRequest = 41;
  redact.errors = 2;
  redact.timeouts = 3;
  redact.outOfMemory = 1;
  redact.unavailable = 8;
  redact.seconds = 0.125;
  redact.recordsDropped = 4;
  redact.requestsRefused = 5;
  redact.bodiesSkipped = 6;
  redact.emitted = 7;
  redact.disabled = 1;
  const text = renderPrometheus(metrics, BUILD, {
    plugins: {
      instances: [redact],
      generation: 1,
      live: 1,
      reloads: { ok: 0, rejected: 0 },
    },
  });
  const start = text.indexOf("# HELP tapline_plugin_calls_total");
  const end = text.indexOf("# HELP tapline_upstream_latency_seconds");
  assert.ok(start >= 0 && end > start, "plugin series sit before the latency histogram");
  assert.equal(
    text.slice(start, end),
    `# HELP tapline_plugin_calls_total Plugin hook calls, by hook.
# TYPE tapline_plugin_calls_total counter
tapline_plugin_calls_total{plugin="redact",hook="onRequest"} 41
tapline_plugin_calls_total{plugin="redact",hook="onCapture"} 40
# HELP tapline_plugin_errors_total Plugin hook calls that threw or returned something unusable.
# TYPE tapline_plugin_errors_total counter
tapline_plugin_errors_total{plugin="redact"} 2
# HELP tapline_plugin_timeouts_total Plugin hook calls stopped at their deadline.
# TYPE tapline_plugin_timeouts_total counter
tapline_plugin_timeouts_total{plugin="redact"} 3
# HELP tapline_plugin_oom_total Plugin hook calls that ran out of memory (the sandbox is rebuilt).
# TYPE tapline_plugin_oom_total counter
tapline_plugin_oom_total{plugin="redact"} 1
# HELP tapline_plugin_unavailable_total Plugin hook calls made while its sandbox was being rebuilt (handled by its failure mode).
# TYPE tapline_plugin_unavailable_total counter
tapline_plugin_unavailable_total{plugin="redact"} 8
# HELP tapline_plugin_seconds_total Seconds spent inside the plugin's sandbox.
# TYPE tapline_plugin_seconds_total counter
tapline_plugin_seconds_total{plugin="redact"} 0.125
# HELP tapline_plugin_records_dropped_total Records the plugin dropped, by returning null or by failing closed.
# TYPE tapline_plugin_records_dropped_total counter
tapline_plugin_records_dropped_total{plugin="redact"} 4
# HELP tapline_plugin_requests_refused_total Requests answered 502 because the plugin failed closed on a request hook.
# TYPE tapline_plugin_requests_refused_total counter
tapline_plugin_requests_refused_total{plugin="redact"} 5
# HELP tapline_plugin_bodies_skipped_total Bodies the plugin's body hooks skipped: over its body limit, encoded or not text.
# TYPE tapline_plugin_bodies_skipped_total counter
tapline_plugin_bodies_skipped_total{plugin="redact"} 6
# HELP tapline_plugin_emitted_total Custom records the plugin emitted.
# TYPE tapline_plugin_emitted_total counter
tapline_plugin_emitted_total{plugin="redact"} 7
# HELP tapline_plugin_disabled 1 when the plugin was disabled after repeated failures.
# TYPE tapline_plugin_disabled gauge
tapline_plugin_disabled{plugin="redact"} 1
`,
  );
});

test("every plugin gets every series (zeroes included); no plugins, no plugin series", () => {
  const metrics = new Metrics();
  const b = new PluginMetrics("b");
  b.calls.onSseEvent = 9;
  const text = renderPrometheus(metrics, BUILD, {
    plugins: {
      instances: [new PluginMetrics("a"), b],
      generation: 4,
      live: 2,
      reloads: { ok: 3, rejected: 1 },
    },
  });
  assert.equal(sample(text, "tapline_plugin_generation"), "4");
  assert.equal(sample(text, "tapline_plugin_generations_live"), "2");
  assert.equal(sample(text, 'tapline_plugin_reloads_total{result="ok"}'), "3");
  assert.equal(sample(text, 'tapline_plugin_reloads_total{result="rejected"}'), "1");
  assert.equal(sample(text, 'tapline_plugin_errors_total{plugin="a"}'), "0");
  assert.equal(sample(text, 'tapline_plugin_disabled{plugin="a"}'), "0");
  assert.equal(sample(text, 'tapline_plugin_calls_total{plugin="b",hook="onSseEvent"}'), "9");
  assert.equal(samples(text).filter(([name]) => name.startsWith("tapline_plugin_calls_total{")).length, 1);
  assert.equal(samples(text).filter(([name]) => name.startsWith("tapline_plugin_emitted_total{")).length, 2);
  assert.doesNotMatch(renderPrometheus(new Metrics(), BUILD), /tapline_plugin_/);
});

test("records dropped by a plugin show in the dropped series with reason plugin", () => {
  const metrics = new Metrics();
  metrics.route("api").captureDropped.plugin = 3;
  const text = renderPrometheus(metrics, BUILD);
  assert.equal(sample(text, 'tapline_capture_dropped_total{route="api",reason="plugin"}'), "3");
  assert.equal(sample(text, 'tapline_capture_dropped_total{route="api",reason="queue_full"}'), "0");
});

test("http-tap-proxy's series are served under its names, with its types and formatting, next to tapline's", () => {
  const metrics = new Metrics();
  const api = metrics.route("api");
  api.requestsTotal = 12;
  api.requestsActive = 2;
  api.bytesReceived = 100;
  api.bytesSent = 2000;
  api.upstreamErrors = 3;
  api.websocketsActive = 1;
  api.sseStreamsActive = 4;
  api.captureDropped.write_error = 5;
  api.upstreamLatency.observe(0.001);
  api.upstreamLatency.observe(0.002);
  metrics.route("web");
  const text = renderPrometheus(metrics, BUILD);
  const names = [...new Set(samples(text).map(([name]) => name.replace(/\{.*$/, "")))]
    .filter((name) => name.startsWith("http_tap_proxy_"));
  // The list dashboards and alerts written for http-tap-proxy query.
  assert.deepEqual(names.sort(), [
    "http_tap_proxy_bytes_received_total",
    "http_tap_proxy_bytes_sent_total",
    "http_tap_proxy_errors_total",
    "http_tap_proxy_log_errors_total",
    "http_tap_proxy_requests_active",
    "http_tap_proxy_requests_total",
    "http_tap_proxy_sse_connections_active",
    "http_tap_proxy_upstream_latency_avg_microseconds",
    "http_tap_proxy_uptime_seconds",
    "http_tap_proxy_websocket_connections_active",
  ]);
  assert.equal(sample(text, 'http_tap_proxy_requests_total{route="api"}'), "12");
  assert.equal(sample(text, 'http_tap_proxy_requests_active{route="api"}'), "2");
  assert.equal(sample(text, 'http_tap_proxy_bytes_received_total{route="api"}'), "100");
  assert.equal(sample(text, 'http_tap_proxy_bytes_sent_total{route="api"}'), "2000");
  assert.equal(sample(text, 'http_tap_proxy_errors_total{route="api"}'), "3");
  assert.equal(sample(text, 'http_tap_proxy_websocket_connections_active{route="api"}'), "1");
  assert.equal(sample(text, 'http_tap_proxy_sse_connections_active{route="api"}'), "4");
  assert.equal(sample(text, 'http_tap_proxy_upstream_latency_avg_microseconds{route="api"}'), "1500.00");
  assert.equal(sample(text, 'http_tap_proxy_upstream_latency_avg_microseconds{route="web"}'), "0.00");
  assert.equal(sample(text, 'http_tap_proxy_log_errors_total{route="api"}'), "5");
  assert.match(sample(text, "http_tap_proxy_uptime_seconds") ?? "", /^\d+\.\d{2}$/);
  assert.match(text, /# TYPE http_tap_proxy_requests_total counter\n/);
  assert.match(text, /# TYPE http_tap_proxy_upstream_latency_avg_microseconds gauge\n/);
  assert.ok(sample(text, 'tapline_requests_total{route="api"}') === "12", "tapline's own series stay");
});

test("compat: false leaves http-tap-proxy's series out", () => {
  const metrics = new Metrics();
  metrics.route("api");
  assert.doesNotMatch(renderPrometheus(metrics, BUILD, { compat: false }), /http_tap_proxy_/);
});
