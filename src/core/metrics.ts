import type { DropReason } from "../capture/pipeline.ts";

/**
 * Counters the forwarding path updates with plain field increments (no label
 * lookups per request); the admin port renders them as Prometheus text.
 */

/** Upper bounds (seconds) of the upstream latency histogram buckets. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A cumulative histogram with fixed buckets. */
export class Histogram {
  readonly bounds: readonly number[];
  readonly counts: number[];
  count = 0;
  sum = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(value: number): void {
    this.count++;
    this.sum += value;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

/** Per-route counters. */
export class RouteMetrics {
  readonly route: string;
  requestsTotal = 0;
  requestsActive = 0;
  /** Body bytes received from clients. */
  bytesReceived = 0;
  /** Body bytes sent to clients. */
  bytesSent = 0;
  upstreamErrors = 0;
  clientDisconnects = 0;
  /** Captures cut short because the global memory budget was used up. */
  captureBudgetTruncations = 0;
  readonly captureDropped: Record<DropReason, number> = { queue_full: 0, write_error: 0, shutdown: 0, plugin: 0 };
  recordsWritten = 0;
  /** WebSocket connections relayed, and those open now. */
  websocketsTotal = 0;
  websocketsActive = 0;
  /** WebSocket messages and control frames relayed, by direction. */
  readonly websocketFrames = { client_to_server: 0, server_to_client: 0 };
  /** Event-stream responses, those streaming now, and their events. */
  sseStreamsTotal = 0;
  sseStreamsActive = 0;
  sseEvents = 0;
  /** HTTP/2 requests (streams) in flight. */
  http2StreamsActive = 0;
  /** Finished gRPC calls by `grpc-status` (`0`..`16`), `other` for any other value, `none` when there was none. */
  readonly grpcResponses: Record<string, number> = {};
  /** Time from request start to the upstream's response head, seconds. */
  readonly upstreamLatency = new Histogram(LATENCY_BUCKETS);

  constructor(route: string) {
    this.route = route;
  }
}

/** What the S3 uploader counts. */
export interface S3Counters {
  uploads: number;
  uploadFailures: number;
  bytesUploaded: number;
  filesPending: number;
}

/** Process-wide metrics. */
export class Metrics {
  readonly startedAt = Date.now();
  readonly routes = new Map<string, RouteMetrics>();
  /** Returns the current capture queue depth; set by whoever owns the queue. */
  queueDepth: () => number = () => 0;
  /** Returns captured bytes held in memory; set by whoever owns the budget. */
  captureMemoryUsed: () => number = () => 0;
  /** S3 archival counters, when S3 is configured. */
  s3: S3Counters | undefined;
  /** With `--workers`: how many forwarding processes run, and how many were restarted. */
  workers: { count: () => number; restarts: () => number } | undefined;
  /** With `--capture-thread`: how many times the capture thread died and was started again. */
  captureThread: { restarts: () => number } | undefined;

  /** The counters of a route, created on first use. */
  route(name: string): RouteMetrics {
    let metrics = this.routes.get(name);
    if (!metrics) {
      metrics = new RouteMetrics(name);
      this.routes.set(name, metrics);
    }
    return metrics;
  }
}

/** A route's forwarding counters as plain data: what a `--workers` process reports to the one that serves metrics. */
export interface RouteSnapshot {
  route: string;
  requestsTotal: number;
  requestsActive: number;
  bytesReceived: number;
  bytesSent: number;
  upstreamErrors: number;
  clientDisconnects: number;
  captureBudgetTruncations: number;
  captureDropped: Record<DropReason, number>;
  websocketsTotal: number;
  websocketsActive: number;
  websocketFrames: { client_to_server: number; server_to_client: number };
  sseStreamsTotal: number;
  sseStreamsActive: number;
  sseEvents: number;
  http2StreamsActive: number;
  grpcResponses: Record<string, number>;
  latency: { counts: number[]; count: number; sum: number };
}

/** The snapshot of `metrics`. */
export function routeSnapshot(metrics: RouteMetrics): RouteSnapshot {
  return {
    route: metrics.route,
    requestsTotal: metrics.requestsTotal,
    requestsActive: metrics.requestsActive,
    bytesReceived: metrics.bytesReceived,
    bytesSent: metrics.bytesSent,
    upstreamErrors: metrics.upstreamErrors,
    clientDisconnects: metrics.clientDisconnects,
    captureBudgetTruncations: metrics.captureBudgetTruncations,
    captureDropped: { ...metrics.captureDropped },
    websocketsTotal: metrics.websocketsTotal,
    websocketsActive: metrics.websocketsActive,
    websocketFrames: { ...metrics.websocketFrames },
    sseStreamsTotal: metrics.sseStreamsTotal,
    sseStreamsActive: metrics.sseStreamsActive,
    sseEvents: metrics.sseEvents,
    http2StreamsActive: metrics.http2StreamsActive,
    grpcResponses: { ...metrics.grpcResponses },
    latency: {
      counts: [...metrics.upstreamLatency.counts],
      count: metrics.upstreamLatency.count,
      sum: metrics.upstreamLatency.sum,
    },
  };
}

/**
 * Adds `snapshot` into `into` (records written are not in a snapshot: the
 * writing process counts those itself). `gauges: false` leaves the gauges
 * (active requests, WebSockets, streams) out, for a process that has ended.
 */
export function addRouteSnapshot(into: RouteMetrics, snapshot: RouteSnapshot, gauges = true): void {
  into.requestsTotal += snapshot.requestsTotal;
  if (gauges) {
    into.requestsActive += snapshot.requestsActive;
    into.websocketsActive += snapshot.websocketsActive;
    into.sseStreamsActive += snapshot.sseStreamsActive;
    into.http2StreamsActive += snapshot.http2StreamsActive;
  }
  into.bytesReceived += snapshot.bytesReceived;
  into.bytesSent += snapshot.bytesSent;
  into.upstreamErrors += snapshot.upstreamErrors;
  into.clientDisconnects += snapshot.clientDisconnects;
  into.captureBudgetTruncations += snapshot.captureBudgetTruncations;
  for (const reason of Object.keys(into.captureDropped) as DropReason[]) {
    into.captureDropped[reason] += snapshot.captureDropped[reason] ?? 0;
  }
  into.websocketsTotal += snapshot.websocketsTotal;
  into.websocketFrames.client_to_server += snapshot.websocketFrames.client_to_server;
  into.websocketFrames.server_to_client += snapshot.websocketFrames.server_to_client;
  into.sseStreamsTotal += snapshot.sseStreamsTotal;
  into.sseEvents += snapshot.sseEvents;
  for (const [code, count] of Object.entries(snapshot.grpcResponses)) {
    into.grpcResponses[code] = (into.grpcResponses[code] ?? 0) + count;
  }
  const latency = into.upstreamLatency;
  snapshot.latency.counts.forEach((count, i) => {
    if (i < latency.counts.length) latency.counts[i]! += count;
  });
  latency.count += snapshot.latency.count;
  latency.sum += snapshot.latency.sum;
}
