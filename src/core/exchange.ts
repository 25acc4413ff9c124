import type { HttpCapture } from "../capture/http-capture.ts";
import { correlationId } from "../capture/correlation.ts";
import { scrubCredentials } from "../shared/url-credentials.ts";
import { plainIp } from "../shared/address.ts";
import { describeError } from "../shared/describe-error.ts";
import { headerValue, patchHeaders, type RawHeaders } from "../shared/raw-headers.ts";
import { clientResponseHeaders, upstreamRequestHeaders } from "./headers.ts";
import { ExchangeHooks, withBodyLength } from "./exchange-hooks.ts";
import type { RequestDecision, ResponseHead } from "./hooks.ts";
import { type DirectReply, directReply, upstreamFailure } from "./reply.ts";
import type { InboundRequest, RouteContext } from "./route-context.ts";
import type { GrpcRewriter } from "./grpc-rewriter.ts";
import type { SseRewriter } from "./sse-rewriter.ts";
import { isEventStream, SseTap } from "./sse-tap.ts";
import { GrpcTap } from "./grpc-tap.ts";
import { isGrpc } from "../capture/grpc-call.ts";
import { type RelayEnds, WebSocketRelay } from "./websocket-relay.ts";

/** How an exchange ended, as the adapter saw it. */
export interface FinishOutcome {
  /** The client went away before the response was fully written. */
  clientGone?: boolean;
  /** The upstream or the connection failed after the response started. */
  error?: unknown;
}

/** How `Route.begin` starts an exchange. */
export interface ExchangeStart {
  route: RouteContext;
  request: InboundRequest;
  /** Path and query to request from the upstream. */
  upstreamTarget: string;
  /** The capture, or undefined when this exchange is not captured. */
  capture: HttpCapture | undefined;
  /** What onRequest hooks decided, when the route has plugins that use it. */
  decision: RequestDecision | undefined;
  /** The plugin side of the exchange, when the route has plugins. */
  hooks: ExchangeHooks | undefined;
}

/**
 * One request/response pair in flight. The runtime adapter owns the sockets
 * and streams bytes natively; it calls these methods at the tee points, and
 * the exchange keeps the policy: header hygiene, capture, metrics,
 * accounting. What plugins do to it is in `ExchangeHooks`. Every exchange
 * ends with exactly one `finish` call.
 *
 * @example
 * // The order an adapter calls an exchange in (src/runtime/node-http/proxy-server.ts):
 * const exchange = route.begin(request);
 * if (exchange.direct) return write(exchange.sendDirect());
 * const body = exchange.holdsRequestBody ? await exchange.hookRequestBody(source) : tee(source, exchange.requestChunk);
 * if (body === undefined) return write(exchange.sendDirect()); // a closed plugin refused it
 * exchange.requestEnd(); // once the body has been sent
 * const head = exchange.responseHead(status, statusText, headers); // or exchange.badGateway(error)
 * // held: exchange.releaseHeldResponse(whole body) (or exchange.abandonHold() past exchange.holdLimit)
 * for await (const chunk of upstreamBody) write(exchange.responseChunk(chunk));
 * write(exchange.responseEnd());
 * exchange.finish({ clientGone, error });
 */
export class Exchange {
  readonly route: RouteContext;
  readonly request: InboundRequest;
  /** The capture, or undefined when this exchange is not captured. */
  readonly capture: HttpCapture | undefined;
  /** Method to send to the upstream. */
  readonly upstreamMethod: string;
  /** Path and query to request from the upstream. */
  readonly upstreamTarget: string;
  /** Headers to send to the upstream. */
  upstreamHeaders: RawHeaders;
  /**
   * True when onRequestBody hooks want this request's body: the adapter
   * passes the body through `hookRequestBody` instead of streaming it.
   */
  readonly holdsRequestBody: boolean;
  /**
   * True (after `responseHead`) when onResponseBody hooks want the body: the
   * adapter holds the head and the body, up to `holdLimit` bytes, and sends
   * what `releaseHeldResponse` returns; past the limit it calls `abandonHold`.
   */
  holdsResponseBody = false;
  readonly #startMono = performance.now();
  readonly #hooks: ExchangeHooks | undefined;
  #direct: DirectReply | undefined;
  #finished = false;
  #sse: SseTap | undefined;
  /** Set for a captured gRPC call: its messages become records as they pass. */
  readonly #grpc: GrpcTap | undefined;
  /** A gRPC call (captured or not), counted by its grpc-status when it ends. */
  readonly #grpcCall: boolean;
  #grpcStatus: string | undefined;
  readonly #http2: boolean;
  /** Rewrites the response body as it passes (onSseEvent or onGrpcMessage hooks). */
  #rewriter: SseRewriter | GrpcRewriter | undefined;
  /** Rewrites the request body of a gRPC call as it passes (onGrpcMessage hooks). */
  #requestRewriter: GrpcRewriter | undefined;
  /** Bytes to send at the end instead of the upstream's body (a 502 from a failed onResponse). */
  #replacementBody: Uint8Array | undefined;
  #heldHead: ResponseHead | undefined;

  constructor(start: ExchangeStart) {
    const { route, request, decision } = start;
    this.route = route;
    this.request = request;
    this.capture = start.capture;
    this.#hooks = start.hooks;
    const { metrics, activity } = route.deps;
    metrics.requestsTotal++;
    metrics.requestsActive++;
    activity.enter();
    this.upstreamMethod = decision?.method ?? request.method;
    this.upstreamTarget = start.upstreamTarget;
    const headers = decision?.headers ?? request.headers;
    this.upstreamHeaders = upstreamRequestHeaders(headers, {
      clientIp: plainIp(request.clientIp),
      proto: request.secure ? "https" : "http",
    });
    this.#http2 = request.httpVersion === "2";
    if (this.#http2) metrics.http2StreamsActive++;
    this.#grpcCall = isGrpc(request.headers);
    if (this.capture !== undefined && this.#grpcCall) {
      this.#grpc = new GrpcTap(route, this.capture, this.#hooks?.chain);
    }
    if (decision?.respond) this.#direct = directReply(decision.respond);
    if (this.#grpcCall && this.#direct === undefined) {
      this.#requestRewriter = this.#hooks?.grpcRewriter("client_to_server", route.deps.grpc);
      // Rewritten messages change the length.
      if (this.#requestRewriter) this.upstreamHeaders = patchHeaders(this.upstreamHeaders, { "content-length": null });
    }
    this.holdsRequestBody = this.#direct === undefined && this.#requestRewriter === undefined &&
      this.#hooks?.wantsRequestBody(headers) === true;
  }

  /**
   * A response to send instead of forwarding (a plugin answered, or failed
   * closed): the adapter sends it with `sendDirect` and does not contact the upstream.
   */
  get direct(): DirectReply | undefined {
    return this.#direct;
  }

  /** Accounts for the direct response (capture, metrics) and returns it for the adapter to write. */
  sendDirect(): DirectReply {
    const reply = this.#direct!;
    this.requestEnd();
    this.#recordResponseHead(reply.head);
    this.route.deps.metrics.bytesSent += reply.body.byteLength;
    this.capture?.response.add(reply.body);
    return reply;
  }

  /**
   * Reads the request body for the onRequestBody hooks and returns what to
   * send upstream: the (possibly changed) body whole, or, past the hooks'
   * limit, a stream of it unchanged. Returns undefined when a closed plugin
   * failed: `direct` then holds the 502 to send.
   */
  async hookRequestBody(
    source: AsyncIterable<Uint8Array>,
  ): Promise<Uint8Array | AsyncIterable<Uint8Array> | undefined> {
    const sink = { chunk: (bytes: Uint8Array) => this.requestChunk(bytes), end: () => this.requestEnd() };
    const outcome = await this.#hooks!.holdRequestBody(source, this.upstreamHeaders, sink);
    if ("stream" in outcome) return outcome.stream;
    if (outcome.refused) {
      this.#direct = outcome.refused;
      this.#failedOn(outcome.refused.refusedBy, "onRequestBody");
      return undefined;
    }
    if (outcome.changed) this.upstreamHeaders = withBodyLength(this.upstreamHeaders, outcome.body);
    return outcome.body;
  }

  /**
   * A chunk of the request body from the client: returns the bytes to send
   * to the upstream now (the same chunk unless onGrpcMessage hooks rewrite
   * the call; undefined when there is nothing to send).
   */
  requestChunk(chunk: Uint8Array): Uint8Array | undefined {
    this.route.deps.metrics.bytesReceived += chunk.byteLength;
    if (this.#requestRewriter !== undefined) {
      chunk = this.#requestRewriter.push(chunk);
      if (chunk.byteLength === 0) return undefined;
    }
    this.#requestSent(chunk);
    return chunk;
  }

  /**
   * The client's request body ended (call it for bodyless requests too):
   * returns the last bytes to send upstream (a gRPC message cut short that a
   * rewrite held), or undefined. Once they are sent the request is complete.
   */
  requestEnd(): Uint8Array | undefined {
    const rewriter = this.#requestRewriter;
    this.#requestRewriter = undefined;
    const rest = rewriter?.end();
    if (rest !== undefined && rest.byteLength > 0) this.#requestSent(rest);
    const capture = this.capture;
    if (capture && capture.requestEndMs < 0) capture.requestEndMs = capture.elapsed();
    return rest !== undefined && rest.byteLength > 0 ? rest : undefined;
  }

  /** Request bytes on their way to the upstream, as the record shows them. */
  #requestSent(chunk: Uint8Array): void {
    this.capture?.request.add(chunk);
    this.#grpc?.request(chunk);
  }

  /**
   * The upstream's response head arrived; returns the head to send to the
   * client (after onResponse hooks). When `holdsResponseBody` is then true,
   * the adapter holds it until `releaseHeldResponse` or `abandonHold`.
   */
  responseHead(status: number, statusText: string, headers: RawHeaders): ResponseHead {
    this.#observeLatency();
    let head: ResponseHead = { status, statusText, headers };
    if (this.#hooks !== undefined) {
      const outcome = this.#hooks.responseHead(head, this.upstreamMethod);
      if (outcome.refused) {
        this.#replacementBody = outcome.refused.body;
        this.#recordResponseHead(outcome.refused.head);
        this.#failedOn(outcome.refused.refusedBy, "onResponse");
        return outcome.refused.head;
      }
      ({ head, rewriter: this.#rewriter, holdsBody: this.holdsResponseBody } = outcome);
      if (this.#grpcCall && head.status !== 101 && this.#rewriter === undefined) {
        this.#rewriter = this.#hooks.grpcRewriter("server_to_client", this.route.deps.grpc);
        if (this.#rewriter) {
          this.holdsResponseBody = false;
          head = { ...head, headers: patchHeaders(head.headers, { "content-length": null }) };
        }
      }
    }
    this.#recordResponseHead(head);
    // A trailers-only response (an error without messages) carries grpc-status in its head.
    if (this.#grpcCall) this.#grpcStatus = headerValue(head.headers, "grpc-status");
    if (head.status !== 101 && isEventStream(head.headers)) {
      this.#sse = new SseTap(this.route, this.capture, this.#hooks?.chain);
    }
    const sent = { ...head, headers: clientResponseHeaders(head.headers) };
    if (this.holdsResponseBody) this.#heldHead = sent;
    return sent;
  }

  /** Largest body the adapter holds for the onResponseBody hooks. */
  get holdLimit(): number {
    return this.#hooks?.chain.bodyLimit ?? 0;
  }

  /**
   * The whole held response body arrived: runs the onResponseBody hooks and
   * returns the head and body to send (a 502 when a closed plugin failed).
   */
  releaseHeldResponse(body: Uint8Array): DirectReply {
    this.holdsResponseBody = false;
    let head = this.#heldHead!;
    const outcome = this.#hooks!.releaseResponseBody(head, body);
    if (outcome.refused) {
      head = outcome.refused.head;
      body = outcome.refused.body;
      // The head was already timed when it arrived; only what it says changes.
      this.#recordResponseHead(head, false);
      this.#failedOn(outcome.refused.refusedBy, "onResponseBody");
    } else if (outcome.changed) {
      body = outcome.body;
      head = { ...head, headers: withBodyLength(head.headers, body) };
      const capture = this.capture;
      if (capture?.responseHeaders) capture.responseHeaders = withBodyLength(capture.responseHeaders, body);
    }
    this.responseChunk(body);
    return { head, body };
  }

  /** The held body grew past `holdLimit`: the adapter sends the held head and streams on. */
  abandonHold(): ResponseHead {
    this.holdsResponseBody = false;
    this.#hooks?.responseBodySkipped();
    return this.#heldHead!;
  }

  /**
   * A chunk of the response body from the upstream: returns the bytes to send
   * to the client now (the same chunk unless onSseEvent hooks rewrite the
   * stream; undefined when there is nothing to send).
   */
  responseChunk(chunk: Uint8Array): Uint8Array | undefined {
    if (this.#replacementBody !== undefined) return undefined;
    if (this.#rewriter !== undefined) {
      chunk = this.#rewriter.push(chunk);
      if (chunk.byteLength === 0) return undefined;
    }
    this.route.deps.metrics.bytesSent += chunk.byteLength;
    this.capture?.response.add(chunk);
    this.#sse?.chunk(chunk);
    this.#grpc?.response(chunk);
    return chunk;
  }

  /**
   * The upstream's body ended: returns the last bytes to send before ending
   * the client's response (an event held by a rewrite, or the body of a 502
   * that replaced the response), or undefined.
   */
  responseEnd(): Uint8Array | undefined {
    const replacement = this.#replacementBody;
    if (replacement !== undefined) {
      this.#replacementBody = undefined;
      return this.responseChunk(replacement);
    }
    const rewriter = this.#rewriter;
    if (rewriter === undefined) return undefined;
    this.#rewriter = undefined;
    const rest = rewriter.end();
    return rest.byteLength === 0 ? undefined : this.responseChunk(rest);
  }

  /**
   * The client ended its body with these trailer fields (chunked HTTP/1.1 or
   * HTTP/2): they are recorded, and returned to send to the upstream.
   */
  requestTrailers(trailers: RawHeaders): RawHeaders {
    if (this.capture && trailers.length > 0) this.capture.requestTrailers = trailers;
    return trailers;
  }

  /**
   * The upstream ended a chunked body with these trailer fields: they are
   * recorded, and returned to send to the client after the body.
   */
  responseTrailers(trailers: RawHeaders): RawHeaders {
    if (this.capture && trailers.length > 0) this.capture.responseTrailers = trailers;
    if (this.#grpcCall) this.#grpcStatus = headerValue(trailers, "grpc-status") ?? this.#grpcStatus;
    return trailers;
  }

  /**
   * The upstream accepted a WebSocket upgrade with this 101 head, and the
   * client has been answered: the exchange is recorded now (its record's id
   * is the frames' `connection_id`) and a relay takes over the connection.
   */
  acceptWebSocket(
    head: { statusText: string; headers: RawHeaders },
    ends: Omit<RelayEnds, "connectionId" | "plugins">,
  ): WebSocketRelay {
    this.responseHead(101, head.statusText, head.headers);
    const relay = new WebSocketRelay(this.route, {
      ...ends,
      connectionId: this.capture?.id,
      plugins: this.#hooks?.chain,
    });
    relay.url = this.upstreamTarget;
    this.finish();
    return relay;
  }

  /**
   * The upstream could not be reached or failed before its response head:
   * returns the 502 the adapter sends instead. The adapter passes the body
   * through `responseChunk` like any other and then calls `finish`.
   */
  badGateway(error: unknown): DirectReply {
    this.route.deps.metrics.upstreamErrors++;
    const message = scrubCredentials(describeError(error), this.route.upstream);
    if (this.capture) this.capture.error = `Upstream request failed: ${message}`;
    // The client learns only that the upstream failed, and which request to look up; the record has the why.
    const reply = upstreamFailure(correlationId(this.request.headers) ?? this.capture?.id);
    this.#observeLatency();
    this.#recordResponseHead(reply.head);
    // A held or rewritten response no longer applies: this one is sent instead.
    this.holdsResponseBody = false;
    this.#rewriter = undefined;
    this.#replacementBody = undefined;
    return reply;
  }

  /** Ends the exchange: records it and releases its accounting. Later calls do nothing. */
  finish(outcome?: FinishOutcome): void {
    if (this.#finished) return;
    this.#finished = true;
    const { metrics, activity, pipeline, sinks } = this.route.deps;
    metrics.requestsActive--;
    if (this.#http2) metrics.http2StreamsActive--;
    if (this.#grpcCall) {
      const code = this.#grpcStatus?.trim();
      const label = code === undefined ? "none" : /^(?:\d|1[0-6])$/.test(code) ? code : "other";
      metrics.grpcResponses[label] = (metrics.grpcResponses[label] ?? 0) + 1;
    }
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
      pipeline.submit({ capture, sinks, metrics, plugins: this.#hooks?.chain });
    } else if (outcome?.error !== undefined && !outcome.clientGone) {
      metrics.upstreamErrors++;
    }
    this.#hooks?.chain.release();
    activity.leave();
  }

  /** The response head the record shows: the one sent to the client, before hop-by-hop hygiene. */
  #recordResponseHead(head: ResponseHead, timed = true): void {
    const capture = this.capture;
    if (!capture) return;
    if (timed) capture.responseHeadMs = capture.elapsed();
    capture.status = head.status;
    capture.statusText = head.statusText;
    capture.responseHeaders = head.headers;
  }

  #failedOn(plugin: string, hook: string): void {
    if (this.capture) this.capture.error = `Plugin ${plugin} failed on ${hook}`;
  }

  #observeLatency(): void {
    this.route.deps.metrics.upstreamLatency.observe((performance.now() - this.#startMono) / 1000);
  }
}
