import type { Histogram, Metrics, RouteMetrics } from "../core/metrics.ts";
import type { PluginMetrics } from "../plugins/metrics.ts";
import { HOOK_NAMES } from "../core/hooks.ts";
import { renderCompatSeries } from "./prometheus-compat.ts";

/** Build facts shown as `tapline_build_info` labels. */
export interface BuildInfo {
  version: string;
  runtime: string;
  runtimeVersion: string;
}

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

type RouteCounter = { name: string; help: string; type: "counter" | "gauge"; value: (m: RouteMetrics) => number };

const ROUTE_SERIES: RouteCounter[] = [
  { name: "tapline_requests_total", help: "Requests received.", type: "counter", value: (m) => m.requestsTotal },
  { name: "tapline_requests_active", help: "Requests in flight.", type: "gauge", value: (m) => m.requestsActive },
  {
    name: "tapline_bytes_received_total",
    help: "Request body bytes received from clients.",
    type: "counter",
    value: (m) => m.bytesReceived,
  },
  {
    name: "tapline_bytes_sent_total",
    help: "Response body bytes sent to clients.",
    type: "counter",
    value: (m) => m.bytesSent,
  },
  {
    name: "tapline_upstream_errors_total",
    help: "Exchanges that failed at the upstream.",
    type: "counter",
    value: (m) => m.upstreamErrors,
  },
  {
    name: "tapline_client_disconnects_total",
    help: "Clients that went away before their response ended.",
    type: "counter",
    value: (m) => m.clientDisconnects,
  },
  {
    name: "tapline_capture_truncated_total",
    help: "Captures cut short because the capture memory budget was used up.",
    type: "counter",
    value: (m) => m.captureBudgetTruncations,
  },
  {
    name: "tapline_records_written_total",
    help: "Records written, counted once per sink.",
    type: "counter",
    value: (m) => m.recordsWritten,
  },
  {
    name: "tapline_websocket_connections_total",
    help: "WebSocket connections relayed.",
    type: "counter",
    value: (m) => m.websocketsTotal,
  },
  {
    name: "tapline_websocket_connections_active",
    help: "WebSocket connections open now.",
    type: "gauge",
    value: (m) => m.websocketsActive,
  },
  {
    name: "tapline_sse_streams_total",
    help: "Event-stream (SSE) responses.",
    type: "counter",
    value: (m) => m.sseStreamsTotal,
  },
  {
    name: "tapline_sse_streams_active",
    help: "Event-stream (SSE) responses streaming now.",
    type: "gauge",
    value: (m) => m.sseStreamsActive,
  },
  {
    name: "tapline_http2_streams_active",
    help: "HTTP/2 requests (streams) in flight.",
    type: "gauge",
    value: (m) => m.http2StreamsActive,
  },
  {
    name: "tapline_sse_events_total",
    help: "Server-Sent Events relayed.",
    type: "counter",
    value: (m) => m.sseEvents,
  },
];

type PluginSeries = { name: string; help: string; type: "counter" | "gauge"; value: (m: PluginMetrics) => number };

/** Per-plugin series after `tapline_plugin_calls_total`, which has a `hook` label too. */
const PLUGIN_SERIES: PluginSeries[] = [
  {
    name: "tapline_plugin_errors_total",
    help: "Plugin hook calls that threw or returned something unusable.",
    type: "counter",
    value: (m) => m.errors,
  },
  {
    name: "tapline_plugin_timeouts_total",
    help: "Plugin hook calls stopped at their deadline.",
    type: "counter",
    value: (m) => m.timeouts,
  },
  {
    name: "tapline_plugin_oom_total",
    help: "Plugin hook calls that ran out of memory (the sandbox is rebuilt).",
    type: "counter",
    value: (m) => m.outOfMemory,
  },
  {
    name: "tapline_plugin_unavailable_total",
    help: "Plugin hook calls made while its sandbox was being rebuilt (handled by its failure mode).",
    type: "counter",
    value: (m) => m.unavailable,
  },
  {
    name: "tapline_plugin_seconds_total",
    help: "Seconds spent inside the plugin's sandbox.",
    type: "counter",
    value: (m) => m.seconds,
  },
  {
    name: "tapline_plugin_records_dropped_total",
    help: "Records the plugin dropped, by returning null or by failing closed.",
    type: "counter",
    value: (m) => m.recordsDropped,
  },
  {
    name: "tapline_plugin_requests_refused_total",
    help: "Requests answered 502 because the plugin failed closed on a request hook.",
    type: "counter",
    value: (m) => m.requestsRefused,
  },
  {
    name: "tapline_plugin_bodies_skipped_total",
    help: "Bodies the plugin's body hooks skipped: over its body limit, encoded or not text.",
    type: "counter",
    value: (m) => m.bodiesSkipped,
  },
  {
    name: "tapline_plugin_emitted_total",
    help: "Custom records the plugin emitted.",
    type: "counter",
    value: (m) => m.emitted,
  },
  {
    name: "tapline_plugin_disabled",
    help: "1 when the plugin was disabled after repeated failures.",
    type: "gauge",
    value: (m) => m.disabled,
  },
];

/** The running plugin set's counters and the control plane's. */
export interface PluginSetMetrics {
  instances: readonly PluginMetrics[];
  /** The running set's generation (1 at start, one more per reload). */
  generation: number;
  /** Sets not yet freed: the running one and those still used by traffic that began on them. */
  live: number;
  reloads: { ok: number; rejected: number };
}

function pluginSetLines(set: PluginSetMetrics): string {
  let out = "# HELP tapline_plugin_generation The running plugin set: 1 at start, one more per reload.\n";
  out += `# TYPE tapline_plugin_generation gauge\ntapline_plugin_generation ${set.generation}\n`;
  out += "# HELP tapline_plugin_generations_live Plugin sets not yet freed, the running one included.\n";
  out += `# TYPE tapline_plugin_generations_live gauge\ntapline_plugin_generations_live ${set.live}\n`;
  out +=
    "# HELP tapline_plugin_reloads_total Plugin reloads, by result.\n# TYPE tapline_plugin_reloads_total counter\n";
  out += `tapline_plugin_reloads_total{result="ok"} ${set.reloads.ok}\n`;
  out += `tapline_plugin_reloads_total{result="rejected"} ${set.reloads.rejected}\n`;
  return out + pluginLines(set.instances);
}

function pluginLines(plugins: readonly PluginMetrics[]): string {
  if (plugins.length === 0) return "";
  let out = "# HELP tapline_plugin_calls_total Plugin hook calls, by hook.\n";
  out += "# TYPE tapline_plugin_calls_total counter\n";
  for (const m of plugins) {
    const plugin = escapeLabel(m.plugin);
    // Hooks in the order an exchange meets them; only hooks called so far.
    for (const hook of HOOK_NAMES) {
      const count = m.calls[hook];
      if (count !== undefined) out += `tapline_plugin_calls_total{plugin="${plugin}",hook="${hook}"} ${count}\n`;
    }
  }
  for (const series of PLUGIN_SERIES) {
    out += `# HELP ${series.name} ${series.help}\n# TYPE ${series.name} ${series.type}\n`;
    for (const m of plugins) out += `${series.name}{plugin="${escapeLabel(m.plugin)}"} ${series.value(m)}\n`;
  }
  return out;
}

function histogramLines(name: string, labels: string, histogram: Histogram): string {
  let out = "";
  let cumulative = 0;
  for (let i = 0; i < histogram.bounds.length; i++) {
    cumulative += histogram.counts[i]!;
    out += `${name}_bucket{${labels},le="${histogram.bounds[i]}"} ${cumulative}\n`;
  }
  out += `${name}_bucket{${labels},le="+Inf"} ${histogram.count}\n`;
  out += `${name}_sum{${labels}} ${histogram.sum}\n`;
  out += `${name}_count{${labels}} ${histogram.count}\n`;
  return out;
}

/**
 * Renders every metric in the Prometheus text exposition format (0.0.4):
 * tapline's series, and http-tap-proxy's under its names unless `compat` is false.
 */
export function renderPrometheus(
  metrics: Metrics,
  build: BuildInfo,
  options: { plugins?: PluginSetMetrics | undefined; compat?: boolean } = {},
): string {
  const { plugins } = options;
  const routes = [...metrics.routes.values()];
  let out = "";
  out += "# HELP tapline_build_info Build and runtime of this process.\n# TYPE tapline_build_info gauge\n";
  out += `tapline_build_info{version="${escapeLabel(build.version)}",runtime="${build.runtime}",runtime_version="${
    escapeLabel(build.runtimeVersion)
  }"} 1\n`;
  out += "# HELP tapline_uptime_seconds Seconds since the process started.\n# TYPE tapline_uptime_seconds gauge\n";
  out += `tapline_uptime_seconds ${((Date.now() - metrics.startedAt) / 1000).toFixed(3)}\n`;
  for (const series of ROUTE_SERIES) {
    out += `# HELP ${series.name} ${series.help}\n# TYPE ${series.name} ${series.type}\n`;
    for (const m of routes) out += `${series.name}{route="${escapeLabel(m.route)}"} ${series.value(m)}\n`;
  }
  out += "# HELP tapline_capture_dropped_total Captured records dropped before reaching a sink, by reason.\n";
  out += "# TYPE tapline_capture_dropped_total counter\n";
  for (const m of routes) {
    for (const [reason, count] of Object.entries(m.captureDropped)) {
      out += `tapline_capture_dropped_total{route="${escapeLabel(m.route)}",reason="${reason}"} ${count}\n`;
    }
  }
  out += "# HELP tapline_websocket_frames_total WebSocket messages and control frames relayed, by direction.\n";
  out += "# TYPE tapline_websocket_frames_total counter\n";
  for (const m of routes) {
    for (const [direction, count] of Object.entries(m.websocketFrames)) {
      out += `tapline_websocket_frames_total{route="${escapeLabel(m.route)}",direction="${direction}"} ${count}\n`;
    }
  }
  out += "# HELP tapline_grpc_responses_total Finished gRPC calls by grpc-status (none: the call ended without one).\n";
  out += "# TYPE tapline_grpc_responses_total counter\n";
  for (const m of routes) {
    for (const [code, count] of Object.entries(m.grpcResponses)) {
      out += `tapline_grpc_responses_total{route="${escapeLabel(m.route)}",code="${code}"} ${count}\n`;
    }
  }
  out +=
    "# HELP tapline_capture_queue_depth Records waiting for the writer.\n# TYPE tapline_capture_queue_depth gauge\n";
  out += `tapline_capture_queue_depth ${metrics.queueDepth()}\n`;
  out += "# HELP tapline_capture_memory_bytes Captured bytes held in memory awaiting the writer.\n";
  out += "# TYPE tapline_capture_memory_bytes gauge\n";
  out += `tapline_capture_memory_bytes ${metrics.captureMemoryUsed()}\n`;
  if (metrics.s3) {
    const s3 = metrics.s3;
    const series: [string, string, "counter" | "gauge", number][] = [
      ["tapline_s3_uploads_total", "Rotated files uploaded to S3.", "counter", s3.uploads],
      ["tapline_s3_upload_failures_total", "Failed S3 upload attempts (retried).", "counter", s3.uploadFailures],
      ["tapline_s3_uploaded_bytes_total", "Bytes uploaded to S3.", "counter", s3.bytesUploaded],
      ["tapline_s3_files_pending", "Rotated files waiting for upload.", "gauge", s3.filesPending],
    ];
    for (const [name, help, type, value] of series) {
      out += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`;
    }
  }
  if (metrics.workers) {
    const { count, restarts } = metrics.workers;
    out += "# HELP tapline_workers Forwarding processes (--workers) running now.\n# TYPE tapline_workers gauge\n";
    out += `tapline_workers ${count()}\n`;
    out += "# HELP tapline_worker_restarts_total Forwarding processes that died and were started again.\n";
    out += `# TYPE tapline_worker_restarts_total counter\ntapline_worker_restarts_total ${restarts()}\n`;
  }
  if (metrics.captureThread) {
    out += "# HELP tapline_capture_thread_restarts_total Capture threads (--capture-thread) that died and were " +
      "started again.\n# TYPE tapline_capture_thread_restarts_total counter\n";
    out += `tapline_capture_thread_restarts_total ${metrics.captureThread.restarts()}\n`;
  }
  if (plugins) out += pluginSetLines(plugins);
  out += "# HELP tapline_upstream_latency_seconds Time from request start to the upstream's response head.\n";
  out += "# TYPE tapline_upstream_latency_seconds histogram\n";
  for (const m of routes) {
    out += histogramLines("tapline_upstream_latency_seconds", `route="${escapeLabel(m.route)}"`, m.upstreamLatency);
  }
  if (options.compat !== false) out += renderCompatSeries(metrics, escapeLabel);
  return out;
}
