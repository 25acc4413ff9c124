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
