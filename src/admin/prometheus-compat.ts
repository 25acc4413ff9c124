/**
 * The series http-tap-proxy serves, under its names and with its meanings, so
 * dashboards and alerts written for it keep working after the switch
 * (`--metrics-compat`, on by default). Same label (`route`), same types, same
 * formatting: averages and uptime with two decimals, uptime without a label,
 * as its handler writes them.
 */
import type { Metrics, RouteMetrics } from "../core/metrics.ts";

type CompatSeries = { name: string; help: string; type: "counter" | "gauge"; value: (m: RouteMetrics) => string };

const integer = (value: number) => String(value);

/** Average upstream latency in microseconds, from the latency histogram (seconds). */
function averageMicroseconds(m: RouteMetrics): string {
  const { count, sum } = m.upstreamLatency;
  return (count === 0 ? 0 : (sum / count) * 1e6).toFixed(2);
}

/** Every per-route series, in http-tap-proxy's order. */
export const COMPAT_ROUTE_SERIES: readonly CompatSeries[] = [
  {
    name: "http_tap_proxy_requests_total",
    help: "Total number of HTTP requests",
    type: "counter",
    value: (m) => integer(m.requestsTotal),
  },
  {
    name: "http_tap_proxy_requests_active",
    help: "Current number of active requests",
    type: "gauge",
    value: (m) => integer(m.requestsActive),
  },
  {
    name: "http_tap_proxy_bytes_received_total",
    help: "Total bytes received",
    type: "counter",
    value: (m) => integer(m.bytesReceived),
  },
  {
    name: "http_tap_proxy_bytes_sent_total",
    help: "Total bytes sent",
    type: "counter",
    value: (m) => integer(m.bytesSent),
  },
  {
    name: "http_tap_proxy_errors_total",
    help: "Total proxy errors",
    type: "counter",
    value: (m) => integer(m.upstreamErrors),
  },
  {
    name: "http_tap_proxy_websocket_connections_active",
    help: "Active WebSocket connections",
    type: "gauge",
    value: (m) => integer(m.websocketsActive),
  },
  {
    name: "http_tap_proxy_sse_connections_active",
    help: "Active SSE connections",
    type: "gauge",
    value: (m) => integer(m.sseStreamsActive),
  },
  {
    name: "http_tap_proxy_upstream_latency_avg_microseconds",
    help: "Average upstream latency",
    type: "gauge",
    value: averageMicroseconds,
  },
  {
    name: "http_tap_proxy_log_errors_total",
    help: "Total logging errors",
    type: "counter",
    value: (m) => integer(m.captureDropped.write_error),
  },
];

/** The uptime series, which http-tap-proxy writes without a route label. */
export const COMPAT_UPTIME = "http_tap_proxy_uptime_seconds";

/** The compatible series as Prometheus text; `escape` quotes a label value. */
export function renderCompatSeries(metrics: Metrics, escape: (value: string) => string): string {
  const routes = [...metrics.routes.values()];
  let out = "";
  for (const series of COMPAT_ROUTE_SERIES) {
    out += `# HELP ${series.name} ${series.help}\n# TYPE ${series.name} ${series.type}\n`;
    for (const m of routes) out += `${series.name}{route="${escape(m.route)}"} ${series.value(m)}\n`;
  }
  out += `# HELP ${COMPAT_UPTIME} Process uptime in seconds\n# TYPE ${COMPAT_UPTIME} gauge\n`;
  out += `${COMPAT_UPTIME} ${((Date.now() - metrics.startedAt) / 1000).toFixed(2)}\n`;
  return out;
}
