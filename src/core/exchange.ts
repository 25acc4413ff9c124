import type { HttpCapture } from "../capture/http-capture.ts";
import { describeError } from "./describe-error.ts";
import { clientResponseHeaders, type RawHeaders, upstreamRequestHeaders } from "./headers.ts";
import { plainIp } from "./address.ts";
import type { InboundRequest, Route } from "./route.ts";
import { isEventStream, SseTap } from "./sse-tap.ts";
import { type RelayOptions, type WebSocketEnd, WebSocketRelay } from "./websocket-relay.ts";

/** A response head to send to the client. */
export interface ResponseHead {
  status: number;
  statusText: string;
  headers: RawHeaders;
}

/** How an exchange ended, as the adapter saw it. */
export interface FinishOutcome {
  /** The client went away before the response was fully written. */
  clientGone?: boolean;
  /** The upstream or the connection failed after the response started. */
  error?: unknown;
}

const encoder = new TextEncoder();

/**
 * One request/response pair in flight. The runtime adapter owns the sockets
 * and streams bytes natively; it calls these methods at the tee points, and
 * the exchange keeps the policy: header hygiene, capture, metrics, accounting.
 * Every exchange must end with exactly one `finish` call.
 */
export class Exchange {
  readonly route: Route;
  readonly request: InboundRequest;
  /** The capture, or undefined when this exchange is not captured. */
  readonly capture: HttpCapture | undefined;
  /** Path and query to request from the upstream. */
  readonly upstreamTarget: string;
  /** Headers to send to the upstream. */
  readonly upstreamHeaders: RawHeaders;
  readonly #startMono = performance.now();
  #finished = false;
  #sse: SseTap | undefined;

  constructor(route: Route, request: InboundRequest, capture: HttpCapture | undefined) {
    this.route = route;
    this.request = request;
    this.capture = capture;
    const { metrics, activity } = route.deps;
    metrics.requestsTotal++;
    metrics.requestsActive++;
    activity.enter();
    this.upstreamTarget = route.upstreamTarget(request.target);
    this.upstreamHeaders = upstreamRequestHeaders(request.headers, {
      clientIp: plainIp(request.clientIp),
      proto: request.secure ? "https" : "http",
    });
  }

  /** A chunk of the request body on its way to the upstream. */
  requestChunk(chunk: Uint8Array): void {
    this.route.deps.metrics.bytesReceived += chunk.byteLength;
    this.capture?.request.add(chunk);
  }

  /** The request body has been fully forwarded (call it for bodyless requests too). */
  requestEnd(): void {
    const capture = this.capture;
    if (capture && capture.requestEndMs < 0) capture.requestEndMs = capture.elapsed();
  }

  /** The upstream's response head arrived; returns the head to send to the client. */
  responseHead(status: number, statusText: string, headers: RawHeaders): ResponseHead {
    this.route.deps.metrics.upstreamLatency.observe((performance.now() - this.#startMono) / 1000);
    const capture = this.capture;
    if (capture) {
      capture.responseHeadMs = capture.elapsed();
      capture.status = status;
      capture.statusText = statusText;
      capture.responseHeaders = headers;
    }
    if (status !== 101 && isEventStream(headers)) this.#sse = new SseTap(this.route, capture);
    return { status, statusText, headers: clientResponseHeaders(headers) };
  }

  /** A chunk of the response body on its way to the client. */
  responseChunk(chunk: Uint8Array): void {
    this.route.deps.metrics.bytesSent += chunk.byteLength;
    this.capture?.response.add(chunk);
    this.#sse?.chunk(chunk);
  }

  /**
   * The upstream accepted a WebSocket upgrade with this 101 head, and the
   * client has been answered: the exchange is recorded now (its record's id
   * is the frames' `connection_id`) and a relay takes over the connection.
   */
  acceptWebSocket(
    head: { statusText: string; headers: RawHeaders },
    client: WebSocketEnd,
    upstream: WebSocketEnd,
    options?: RelayOptions,
  ): WebSocketRelay {
    this.responseHead(101, head.statusText, head.headers);
    const relay = new WebSocketRelay(this.route, this.capture?.id, client, upstream, options);
    this.finish();
    return relay;
  }

  /**
   * The upstream could not be reached or failed before its response head:
   * returns the 502 the adapter sends instead. The adapter passes the body
   * through `responseChunk` like any other and then calls `finish`.
   */
  badGateway(error: unknown): { head: ResponseHead; body: Uint8Array } {
    this.route.deps.metrics.upstreamErrors++;
    const message = describeError(error);
    if (this.capture) this.capture.error = `Upstream request failed: ${message}`;
    const body = encoder.encode(`Bad Gateway: upstream ${this.route.upstreamText} failed: ${message}\n`);
    const head = this.responseHead(502, "Bad Gateway", [
      "Content-Type",
      "text/plain; charset=utf-8",
      "Content-Length",
      String(body.byteLength),
    ]);
    return { head, body };
  }

  /** Ends the exchange: records it and releases its accounting. Later calls do nothing. */
  finish(outcome?: FinishOutcome): void {
    if (this.#finished) return;
    this.#finished = true;
    const { metrics, activity, pipeline, sinks } = this.route.deps;
    metrics.requestsActive--;
    if (outcome?.clientGone) metrics.clientDisconnects++;
    this.#sse?.end();
    const capture = this.capture;
    if (capture) {
      capture.endMs = capture.elapsed();
      if (capture.requestEndMs < 0) capture.requestEndMs = capture.endMs;
      if (outcome?.clientGone) capture.disconnected = true;
      if (outcome?.error !== undefined && capture.error === undefined) {
        capture.error = describeError(outcome.error);
        if (!outcome.clientGone) metrics.upstreamErrors++;
      }
      if (capture.request.budgetExhausted || capture.response.budgetExhausted) {
        metrics.captureBudgetTruncations++;
      }
      pipeline.submit({ capture, sinks, metrics });
    } else if (outcome?.error !== undefined && !outcome.clientGone) {
      metrics.upstreamErrors++;
    }
    activity.leave();
  }
}
