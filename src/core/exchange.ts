import type { HttpCapture } from "../capture/http-capture.ts";
import type { RequestDecision } from "../plugins/chain.ts";
import { pluginHeaders } from "../plugins/headers.ts";
import { headerValue, patchHeaders } from "../shared/raw-headers.ts";
import type { HookContext } from "../plugins/instance.ts";
import type { DirectResponse, RequestView } from "../plugins/types.ts";
import { concatBytes } from "../shared/bytes.ts";
import { describeError } from "../shared/describe-error.ts";
import { clientResponseHeaders, stripHopByHop, upstreamRequestHeaders } from "./headers.ts";
import { type RawHeaders } from "../shared/raw-headers.ts";
import { plainIp } from "../shared/address.ts";
import type { InboundRequest, Route } from "./route.ts";
import { SseRewriter } from "./sse-rewriter.ts";
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

/** A complete response tapline sends itself (a plugin's `respond`, a 502). */
export interface DirectReply {
  head: ResponseHead;
  body: Uint8Array;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Status codes whose responses have no body. */
const BODYLESS = new Set([101, 204, 304]);

function isIdentity(headers: RawHeaders): boolean {
  const encoding = headerValue(headers, "content-encoding")?.trim().toLowerCase();
  return encoding === undefined || encoding === "" || encoding === "identity";
}

function directReply(respond: DirectResponse): DirectReply {
  const body = encoder.encode(respond.body ?? "");
  const headers: RawHeaders = [];
  for (const [name, value] of Object.entries(respond.headers ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) headers.push(name, String(item));
  }
  const withLength = patchHeaders(stripHopByHop(headers), { "content-length": String(body.byteLength) });
  return { head: { status: respond.status, statusText: "", headers: withLength }, body };
}

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
  readonly #id: string | undefined;
  readonly #view: RequestView | undefined;
  #requestJson: string | undefined;
  #direct: DirectReply | undefined;
  #finished = false;
  #sse: SseTap | undefined;
  #rewriter: SseRewriter | undefined;
  /** Bytes to send at the end instead of the upstream's body (a 502 from a failed onResponse). */
  #replacementBody: Uint8Array | undefined;
  #heldHead: ResponseHead | undefined;

  constructor(
    route: Route,
    request: InboundRequest,
    capture: HttpCapture | undefined,
    plugins?: { id: string; view: RequestView | undefined; decision: RequestDecision | undefined },
  ) {
    this.route = route;
    this.request = request;
    this.capture = capture;
    const { metrics, activity } = route.deps;
    metrics.requestsTotal++;
    metrics.requestsActive++;
    activity.enter();
    const decision = plugins?.decision;
    this.#id = plugins?.id;
    this.#view = plugins?.view;
    this.upstreamMethod = decision?.method ?? request.method;
    this.upstreamTarget = route.upstreamTarget(decision?.url ?? request.target);
    this.upstreamHeaders = upstreamRequestHeaders(decision?.headers ?? request.headers, {
      clientIp: plainIp(request.clientIp),
      proto: request.secure ? "https" : "http",
    });
    if (decision?.respond) this.#direct = directReply(decision.respond);
    const chain = route.plugins;
    this.holdsRequestBody = this.#direct === undefined && chain !== undefined &&
      chain.hooks.onRequestBody.length > 0 && this.#wantsRequestBody(decision?.headers ?? request.headers);
  }

  #wantsRequestBody(headers: RawHeaders): boolean {
    const length = headerValue(headers, "content-length");
    const chunked = headerValue(headers, "transfer-encoding") !== undefined;
    if (length === undefined && !chunked) return false;
    const size = length === undefined ? 0 : Number(length);
    if (size === 0 && !chunked) return false;
    return isIdentity(headers) &&
      this.route.plugins!.wantsBody("onRequestBody", headerValue(headers, "content-type"), size);
  }

  /** Context of the hook calls of this exchange (records a plugin emits carry its id). */
  get #context(): HookContext {
    return { routeName: this.route.name, connectionId: this.capture?.id ?? this.#id };
  }

  /** The request as plugins see it, as JSON (built once). */
  get #requestViewJson(): string {
    return this.#requestJson ??= JSON.stringify(
      this.#view ?? requestView(this.capture?.id ?? this.#id ?? "", this.route.name, this.request),
    );
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
    const capture = this.capture;
    if (capture) {
      capture.responseHeadMs = capture.elapsed();
      capture.status = reply.head.status;
      capture.statusText = reply.head.statusText;
      capture.responseHeaders = reply.head.headers;
    }
    this.route.deps.metrics.bytesSent += reply.body.byteLength;
    capture?.response.add(reply.body);
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
    const chain = this.route.plugins!;
    const held: Uint8Array[] = [];
    let size = 0;
    const iterator = source[Symbol.asyncIterator]();
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      held.push(next.value);
      size += next.value.byteLength;
      if (size > chain.bodyLimit) {
        for (const plugin of chain.hooks.onRequestBody) plugin.metrics.bodiesSkipped++;
        return this.#teeRest(held, iterator);
      }
    }
    const body = concatBytes(held);
    const result = this.#runBodyHook(
      "onRequestBody",
      body,
      headerValue(this.upstreamHeaders, "content-type"),
      this.#requestViewJson,
    );
    if (result === "refused") {
      // The record shows the body the client sent, refused or not.
      this.requestChunk(body);
      return undefined;
    }
    if (result !== body) {
      this.upstreamHeaders = patchHeaders(this.upstreamHeaders, {
        "content-length": String(result.byteLength),
        "transfer-encoding": null,
      });
    }
    this.requestChunk(result);
    this.requestEnd();
    return result;
  }

  async *#teeRest(held: Uint8Array[], iterator: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
    for (const chunk of held) {
      this.requestChunk(chunk);
      yield chunk;
    }
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      this.requestChunk(next.value);
      yield next.value;
    }
    this.requestEnd();
  }

  /** Runs a body hook chain; returns the body to send, or "refused" (and sets `direct`). */
  #runBodyHook(
    hook: "onRequestBody" | "onResponseBody",
    body: Uint8Array,
    contentType: string | undefined,
    rest: string,
  ): Uint8Array | "refused" {
    const chain = this.route.plugins!;
    let text: string;
    try {
      text = strictDecoder.decode(body);
    } catch {
      // Not UTF-8 text: body hooks only ever see text.
      for (const plugin of chain.hooks[hook]) plugin.metrics.bodiesSkipped++;
      return body;
    }
    const result = chain.runBody(hook, text, body.byteLength, contentType, rest, this.#context);
    if ("refusedBy" in result) {
      this.#direct = directReply({
        status: 502,
        headers: { "content-type": "text/plain; charset=utf-8" },
        body: `Bad Gateway: plugin ${result.refusedBy} failed\n`,
      });
      if (this.capture) this.capture.error = `Plugin ${result.refusedBy} failed on ${hook}`;
      return "refused";
    }
    return result.text === undefined ? body : encoder.encode(result.text);
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

  /**
   * The upstream's response head arrived; returns the head to send to the
   * client (after onResponse hooks). When `holdsResponseBody` is then true,
   * the adapter holds it until `releaseHeldResponse` or `abandonHold`.
   */
  responseHead(status: number, statusText: string, headers: RawHeaders): ResponseHead {
    this.route.deps.metrics.upstreamLatency.observe((performance.now() - this.#startMono) / 1000);
    const chain = this.route.plugins;
    if (chain !== undefined && status !== 101 && chain.hooks.onResponse.length > 0) {
      const view = { status, status_text: statusText, headers: pluginHeaders(headers) };
      const patched = chain.runResponse({ status, statusText, headers }, view, this.#requestViewJson, this.#context);
      if ("refusedBy" in patched) return this.#refuseResponse(patched.refusedBy);
      ({ status, statusText, headers } = patched);
    }
    const eventStream = status !== 101 && isEventStream(headers);
    if (chain !== undefined && status !== 101) {
      if (eventStream && chain.hooks.onSseEvent.length > 0) {
        const requestJson = this.#requestViewJson;
        const context = this.#context;
        this.#rewriter = new SseRewriter((event) => chain.runSseEvent(event, requestJson, context));
        // Rewritten events change the length.
        headers = patchHeaders(headers, { "content-length": null });
      } else if (!eventStream && chain.hooks.onResponseBody.length > 0) {
        this.holdsResponseBody = this.#wantsResponseBody(status, headers);
      }
    }
    const capture = this.capture;
    if (capture) {
      capture.responseHeadMs = capture.elapsed();
      capture.status = status;
      capture.statusText = statusText;
      capture.responseHeaders = headers;
    }
    if (eventStream) this.#sse = new SseTap(this.route, capture);
    const head = { status, statusText, headers: clientResponseHeaders(headers) };
    if (this.holdsResponseBody) this.#heldHead = head;
    return head;
  }

  #wantsResponseBody(status: number, headers: RawHeaders): boolean {
    if (BODYLESS.has(status) || this.upstreamMethod === "HEAD" || !isIdentity(headers)) return false;
    const length = headerValue(headers, "content-length");
    const size = length === undefined ? 0 : Number(length);
    if (size === 0 && length !== undefined) return false;
    return this.route.plugins!.wantsBody("onResponseBody", headerValue(headers, "content-type"), size);
  }

  /** Replaces the response with a 502: a closed plugin failed on it. */
  #refuseResponse(plugin: string): ResponseHead {
    const reply = directReply({
      status: 502,
      headers: { "content-type": "text/plain; charset=utf-8" },
      body: `Bad Gateway: plugin ${plugin} failed\n`,
    });
    this.#replacementBody = reply.body;
    const capture = this.capture;
    if (capture) {
      capture.responseHeadMs = capture.elapsed();
      capture.status = 502;
      capture.statusText = "";
      capture.responseHeaders = reply.head.headers;
      capture.error = `Plugin ${plugin} failed on onResponse`;
    }
    return reply.head;
  }

  /** Largest body the adapter holds for the onResponseBody hooks. */
  get holdLimit(): number {
    return this.route.plugins?.bodyLimit ?? 0;
  }

  /**
   * The whole held response body arrived: runs the onResponseBody hooks and
   * returns the head and body to send (a 502 when a closed plugin failed).
   */
  releaseHeldResponse(body: Uint8Array): DirectReply {
    this.holdsResponseBody = false;
    let head = this.#heldHead!;
    const capture = this.capture;
    const requestJson = this.#requestViewJson;
    const responseJson = JSON.stringify({
      status: head.status,
      status_text: head.statusText,
      headers: pluginHeaders(head.headers),
    });
    const result = this.#runBodyHook(
      "onResponseBody",
      body,
      headerValue(head.headers, "content-type"),
      `${responseJson},${requestJson}`,
    );
    let out = body;
    if (result === "refused") {
      const reply = this.#direct!;
      this.#direct = undefined;
      head = reply.head;
      out = reply.body;
      if (capture) {
        capture.status = head.status;
        capture.statusText = head.statusText;
        capture.responseHeaders = head.headers;
      }
    } else if (result !== body) {
      out = result;
      const length = { "content-length": String(out.byteLength), "transfer-encoding": null };
      head = { ...head, headers: patchHeaders(head.headers, length) };
      if (capture?.responseHeaders) capture.responseHeaders = patchHeaders(capture.responseHeaders, length);
    }
    this.responseChunk(out);
    return { head, body: out };
  }

  /** The held body grew past `holdLimit`: the adapter sends the held head and streams on. */
  abandonHold(): ResponseHead {
    this.holdsResponseBody = false;
    for (const plugin of this.route.plugins?.hooks.onResponseBody ?? []) plugin.metrics.bodiesSkipped++;
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
    relay.url = this.upstreamTarget;
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
    const headers = ["Content-Type", "text/plain; charset=utf-8", "Content-Length", String(body.byteLength)];
    this.route.deps.metrics.upstreamLatency.observe((performance.now() - this.#startMono) / 1000);
    const capture = this.capture;
    if (capture) {
      capture.responseHeadMs = capture.elapsed();
      capture.status = 502;
      capture.statusText = "Bad Gateway";
      capture.responseHeaders = headers;
    }
    // A held or rewritten response no longer applies: this one is sent instead.
    this.holdsResponseBody = false;
    this.#rewriter = undefined;
    this.#replacementBody = undefined;
    return { head: { status: 502, statusText: "Bad Gateway", headers }, body };
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
      pipeline.submit({ capture, sinks, metrics, plugins: this.route.plugins });
    } else if (outcome?.error !== undefined && !outcome.clientGone) {
      metrics.upstreamErrors++;
    }
    activity.leave();
  }
}

/** The request as plugins see it. */
export function requestView(id: string, routeName: string, request: InboundRequest): RequestView {
  const target = request.target;
  const queryAt = target.indexOf("?");
  return {
    id,
    route: routeName,
    method: request.method,
    url: target,
    path: queryAt === -1 ? target : target.slice(0, queryAt),
    query: queryAt === -1 ? "" : target.slice(queryAt + 1),
    headers: pluginHeaders(request.headers),
    client_ip: request.clientIp,
  };
}
