import { HttpCapture } from "../capture/http-capture.ts";
import { refusalOf } from "./request-refusal.ts";
import { withoutCredentials } from "../shared/url-credentials.ts";
import { formatAddress } from "../shared/address.ts";
import { Exchange } from "./exchange.ts";
import { ExchangeHooks } from "./exchange-hooks.ts";
import type { HookChain, RequestDecision, RequestView } from "./hooks.ts";
import { requestView } from "./hook-views.ts";
import type { GoingAway, InboundRequest, RouteContext, RouteDependencies } from "./route-context.ts";

/** What a route forwards and captures (a proxy's config has these fields). */
export interface RouteOptions {
  /** Route name, used in records, metrics and file names. */
  name: string;
  /** Upstream base URL; its path is prefixed to forwarded paths. */
  upstream: URL;
  /** Regex sources; capture only paths matching one (empty: all). Applied before `excludePath`. */
  includePath: readonly string[];
  /** Regex sources; never capture paths matching one. */
  excludePath: readonly string[];
}

/**
 * One proxy instance's forwarding policy: where requests go, which are
 * captured, and where captures are written. Adapters call `begin` for every
 * request and drive the returned `Exchange`.
 */
export class Route implements RouteContext {
  readonly name: string;
  readonly upstream: URL;
  /** The upstream as written in records. */
  readonly upstreamText: string;
  readonly deps: RouteDependencies;
  /** WebSocket connections being relayed, so shutdown can close them. */
  readonly websockets = new Set<GoingAway>();
  /**
   * This proxy's plugins, undefined when it has none. An exchange reads it
   * as it goes, so a swapped chain applies to new hook calls.
   */
  plugins: HookChain | undefined;
  readonly #basePath: string;
  readonly #include: RegExp[];
  readonly #exclude: RegExp[];

  constructor(config: RouteOptions, deps: RouteDependencies, plugins?: HookChain) {
    this.plugins = plugins;
    this.name = config.name;
    this.upstream = config.upstream;
    // Shown in logs and records: never with the URL's credentials.
    this.upstreamText = withoutCredentials(config.upstream);
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
    const refusal = refusalOf(request.method, request.headers);
    if (refusal !== undefined) {
      // Answered at once, before plugins and capture: nothing of it reaches the upstream.
      const decision = {
        method: request.method,
        url: request.target,
        headers: request.headers,
        respond: refusal,
        capture: false,
      };
      return new Exchange({
        route: this,
        request,
        upstreamTarget: "/",
        capture: undefined,
        decision,
        hooks: undefined,
      });
    }
    const chain = this.plugins;
    let hooks: ExchangeHooks | undefined;
    let decision: RequestDecision | undefined;
    if (chain !== undefined) {
      // Plugins see the exchange id before there is a capture: records they emit carry it.
      const id = crypto.randomUUID();
      let view: RequestView | undefined;
      const context = { routeName: this.name, connectionId: id, generation: chain.generation };
      // The exchange keeps this plugin set to its end, whatever a reload swaps in meanwhile.
      chain.hold();
      if (chain.uses("onRequest")) {
        view = requestView(id, this.name, request);
        decision = chain.runRequest(view, request.headers, context);
      }
      hooks = new ExchangeHooks(chain, context, () => view ?? requestView(id, this.name, request));
    }
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
          httpVersion: request.httpVersion ?? "1.1",
        },
        this.deps,
        hooks?.context.connectionId,
      );
    }
    return new Exchange({ route: this, request, upstreamTarget: this.upstreamTarget(url), capture, decision, hooks });
  }
}
