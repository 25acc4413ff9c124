import { HttpCapture } from "../capture/http-capture.ts";
import type { MemoryBudget } from "../capture/memory-budget.ts";
import type { CapturePipeline } from "../capture/pipeline.ts";
import type { ProxyConfig } from "../config/types.ts";
import type { PluginChain, RequestDecision } from "../plugins/chain.ts";
import type { RequestView } from "../plugins/types.ts";
import type { RecordSink } from "../sinks/types.ts";
import type { ActivityTracker } from "./activity.ts";
import { formatAddress } from "../shared/address.ts";
import { Exchange, requestView } from "./exchange.ts";
import type { RawHeaders } from "../shared/raw-headers.ts";
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
  /**
   * This proxy's plugins, undefined when it has none. An exchange reads it
   * as it goes, so a swapped chain applies to new hook calls.
   */
  plugins: PluginChain | undefined;
  readonly #basePath: string;
  readonly #include: RegExp[];
  readonly #exclude: RegExp[];

  constructor(config: ProxyConfig, deps: RouteDependencies, plugins?: PluginChain) {
    this.plugins = plugins;
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
    const chain = this.plugins;
    let plugins: { id: string; view: RequestView | undefined; decision: RequestDecision | undefined } | undefined;
    if (chain !== undefined) {
      const id = crypto.randomUUID();
      let view: RequestView | undefined;
      let decision: RequestDecision | undefined;
      if (chain.hooks.onRequest.length > 0) {
        view = requestView(id, this.name, request);
        decision = chain.runRequest(view, request.headers, { routeName: this.name, connectionId: id });
      }
      plugins = { id, view, decision };
    }
    const decision = plugins?.decision;
    const url = decision?.url ?? request.target;
    const queryAt = url.indexOf("?");
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    let capture: HttpCapture | undefined;
    if (decision?.capture !== false && this.shouldCapture(path)) {
      capture = new HttpCapture(
        {
          routeName: this.name,
          upstream: this.upstreamText,
          method: decision?.method ?? request.method,
          url,
          requestHeaders: decision?.headers ?? request.headers,
          clientAddress: formatAddress(request.clientIp, request.clientPort),
        },
        this.deps.maxBodySize,
        this.deps.budget,
        plugins?.id,
      );
    }
    return new Exchange(this, request, capture, plugins);
  }
}
