import { HttpCapture } from "../capture/http-capture.ts";
import type { MemoryBudget } from "../capture/memory-budget.ts";
import type { CapturePipeline } from "../capture/pipeline.ts";
import type { ProxyConfig } from "../config/types.ts";
import type { RecordSink } from "../sinks/types.ts";
import type { ActivityTracker } from "./activity.ts";
import { formatAddress } from "./address.ts";
import { Exchange } from "./exchange.ts";
import type { RawHeaders } from "./headers.ts";
import type { RouteMetrics } from "./metrics.ts";
import type { WebSocketRelay } from "./websocket-relay.ts";

/** A request head as a runtime adapter receives it. */
export interface InboundRequest {
  method: string;
  /** Request target as received: path and query. */
  target: string;
  headers: RawHeaders;
  clientIp: string;
  clientPort: number;
  /** True when the client connected over TLS. */
  secure: boolean;
}

/** What a route needs from the rest of the process. */
export interface RouteDependencies {
  maxBodySize: number;
  budget: MemoryBudget;
  pipeline: CapturePipeline;
  /** Where this route's records go; empty means the route captures nothing. */
  sinks: RecordSink[];
  metrics: RouteMetrics;
  activity: ActivityTracker;
}

/**
 * One proxy instance's forwarding policy: where requests go, which are
 * captured, and where captures are written. Adapters call `begin` for every
 * request and drive the returned `Exchange`.
 */
export class Route {
  readonly name: string;
  readonly upstream: URL;
  /** The upstream as written in records. */
  readonly upstreamText: string;
  readonly deps: RouteDependencies;
  /** WebSocket connections being relayed, so shutdown can close them. */
  readonly websockets = new Set<WebSocketRelay>();
  readonly #basePath: string;
  readonly #include: RegExp[];
  readonly #exclude: RegExp[];

  constructor(config: ProxyConfig, deps: RouteDependencies) {
    this.name = config.name;
    this.upstream = config.upstream;
    this.upstreamText = config.upstream.href.replace(/\/$/, "");
    this.deps = deps;
    const path = config.upstream.pathname;
    this.#basePath = path === "/" ? "" : path.replace(/\/$/, "");
    this.#include = config.includePath.map((source) => new RegExp(source));
    this.#exclude = config.excludePath.map((source) => new RegExp(source));
  }

  /** Whether an exchange on `path` is captured: include first, then exclude. */
  shouldCapture(path: string): boolean {
    if (this.deps.sinks.length === 0) return false;
    if (this.#include.length > 0 && !this.#include.some((re) => re.test(path))) return false;
    return !this.#exclude.some((re) => re.test(path));
  }

  /** The upstream request target for an inbound one (absolute-form targets reduced to path and query). */
  upstreamTarget(target: string): string {
    let pathAndQuery = target;
    if (!target.startsWith("/")) {
      if (target === "*") return target;
      try {
        const url = new URL(target);
        pathAndQuery = url.pathname + url.search;
      } catch {
        pathAndQuery = "/" + target;
      }
    }
    return this.#basePath + pathAndQuery;
  }

  /** Closes every relayed WebSocket with 1001 (going away), for shutdown. */
  closeWebSockets(): void {
    for (const relay of [...this.websockets]) relay.goingAway();
  }

  /** Starts an exchange for a request that has just arrived. */
  begin(request: InboundRequest): Exchange {
    const queryAt = request.target.indexOf("?");
    const path = queryAt === -1 ? request.target : request.target.slice(0, queryAt);
    let capture: HttpCapture | undefined;
    if (this.shouldCapture(path)) {
      capture = new HttpCapture(
        {
          routeName: this.name,
          upstream: this.upstreamText,
          method: request.method,
          url: request.target,
          requestHeaders: request.headers,
          clientAddress: formatAddress(request.clientIp, request.clientPort),
        },
        this.deps.maxBodySize,
        this.deps.budget,
      );
    }
    return new Exchange(this, request, capture);
  }
}
