/**
 * What the parts of a route's traffic (an exchange, an event-stream tap, a
 * WebSocket relay) read from their route. `Route` implements it; the parts
 * import only this, so none of them depends on the class that creates them.
 */
import type { GrpcDecoder } from "../capture/grpc-decoder.ts";
import type { MemoryBudget } from "../capture/memory-budget.ts";
import type { CapturePipeline } from "../capture/pipeline.ts";
import type { RawHeaders } from "../shared/raw-headers.ts";
import type { RecordSink } from "../sinks/types.ts";
import type { ActivityTracker } from "./activity.ts";
import type { HookChain } from "./hooks.ts";
import type { RouteMetrics } from "./metrics.ts";

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
  /** The client's HTTP version (`1.0`, `1.1`); absent where the runtime does not say (Bun.serve: `1.1`). */
  httpVersion?: string;
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
  /** Decodes gRPC messages for onGrpcMessage hooks (`--grpc-descriptors`), when descriptors were given. */
  grpc?: GrpcDecoder;
}

/** A long-lived connection that shutdown closes (a relayed WebSocket). */
export interface GoingAway {
  goingAway(): void;
}

/** The route as its exchanges, taps and relays see it. */
export interface RouteContext {
  readonly name: string;
  /** The upstream base URL (its path is a prefix of every forwarded path). */
  readonly upstream: URL;
  /** The upstream as written in records and error messages. */
  readonly upstreamText: string;
  readonly deps: RouteDependencies;
  /**
   * The route's plugins, undefined when it has none. Read as an exchange
   * goes, so a swapped chain applies to new hook calls.
   */
  readonly plugins: HookChain | undefined;
  /** Open WebSocket relays, so shutdown can close them. */
  readonly websockets: Set<GoingAway>;
}
