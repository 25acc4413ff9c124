/**
 * The plugin side of one exchange: what its route's hook chain does to the
 * request body, the response head, a held response body and an event
 * stream, and the 502 that replaces the response when a closed plugin
 * fails. `Exchange` calls it only when its route has plugins, so an exchange
 * without them never builds a view or holds a byte.
 */
import { concatBytes } from "../shared/bytes.ts";
import { headerValue, patchHeaders, type RawHeaders } from "../shared/raw-headers.ts";
import type {
  BodyHookName,
  GrpcCallView,
  HookChain,
  HookContext,
  Refusal,
  RequestView,
  ResponseHead,
  ResponseView,
} from "./hooks.ts";
import { isIdentityEncoded } from "./headers.ts";
import { responseView } from "./hook-views.ts";
import { type DirectReply, directReply, pluginFailure } from "./reply.ts";
import { SseRewriter } from "./sse-rewriter.ts";
import { GrpcRewriter } from "./grpc-rewriter.ts";
import { grpcMethodOf } from "../capture/grpc-call.ts";
import type { GrpcDecoder } from "../capture/grpc-decoder.ts";
import type { FrameDirection } from "../shared/record.ts";
import { isEventStream } from "./sse-tap.ts";

/** Status codes whose responses have no body. */
const BODYLESS = new Set([101, 204, 304]);

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Where a held request body goes as it is released. */
export interface RequestBodySink {
  chunk(bytes: Uint8Array): void;
  end(): void;
}

/** What the body hooks made of a held body. */
export type BodyOutcome =
  | { body: Uint8Array; changed: boolean; refused?: undefined }
  | { refused: DirectReply & Refusal };

/**
 * A response head after the hooks: the head to send (with the rewriter of an
 * event stream, or whether the body is to be held), or the 502 replacing the
 * response.
 */
export type HeadOutcome =
  | { head: ResponseHead; rewriter: SseRewriter | undefined; holdsBody: boolean; refused?: undefined }
  | { refused: DirectReply & Refusal };

/** One exchange's calls into its route's hook chain. */
export class ExchangeHooks {
  readonly chain: HookChain;
  readonly context: HookContext;
  readonly #view: () => RequestView;
  #request: RequestView | undefined;

  /** @param view builds the request view the first time a hook needs it */
  constructor(chain: HookChain, context: HookContext, view: () => RequestView) {
    this.chain = chain;
    this.context = context;
    this.#view = view;
  }

  /** The request as plugins see it (built once). */
  get request(): RequestView {
    return this.#request ??= this.#view();
  }

  /** Whether onRequestBody hooks want a request with these headers held whole. */
  wantsRequestBody(headers: RawHeaders): boolean {
    if (!this.chain.uses("onRequestBody")) return false;
    const length = headerValue(headers, "content-length");
    const chunked = headerValue(headers, "transfer-encoding") !== undefined;
    if (length === undefined && !chunked) return false;
    const size = length === undefined ? 0 : Number(length);
    if (size === 0 && !chunked) return false;
    return isIdentityEncoded(headers) &&
      this.chain.wantsBody("onRequestBody", headerValue(headers, "content-type"), size);
  }

  /**
   * Runs onResponse (never on a 101), then decides what the other hooks do
   * with the response: rewrite an event stream, or hold a body for onResponseBody.
   */
  responseHead(head: ResponseHead, method: string): HeadOutcome {
    if (head.status === 101) return { head, rewriter: undefined, holdsBody: false };
    if (this.chain.uses("onResponse")) {
      const patched = this.chain.runResponse(head, this.request, this.context);
      if ("refusedBy" in patched) return { refused: refusal(patched.refusedBy) };
      head = patched;
    }
    // After onResponse: a plugin may have changed the content type.
    if (isEventStream(head.headers)) {
      const rewriter = this.#eventRewriter();
      // Rewritten events change the length.
      if (rewriter) head = { ...head, headers: patchHeaders(head.headers, { "content-length": null }) };
      return { head, rewriter, holdsBody: false };
    }
    return { head, rewriter: undefined, holdsBody: this.#wantsResponseBody(method, head) };
  }

  #wantsResponseBody(method: string, head: ResponseHead): boolean {
    const { status, headers } = head;
    if (!this.chain.uses("onResponseBody")) return false;
    if (BODYLESS.has(status) || method === "HEAD" || !isIdentityEncoded(headers)) return false;
    const length = headerValue(headers, "content-length");
    const size = length === undefined ? 0 : Number(length);
    if (size === 0 && length !== undefined) return false;
    return this.chain.wantsBody("onResponseBody", headerValue(headers, "content-type"), size);
  }

  /**
   * A rewriter of one direction of a gRPC call for the onGrpcMessage hooks,
   * or undefined when no plugin uses them. `decoder` (the descriptors) gives
   * the hooks `payload_json`.
   */
  grpcRewriter(direction: FrameDirection, decoder: GrpcDecoder | undefined): GrpcRewriter | undefined {
    if (!this.chain.uses("onGrpcMessage")) return undefined;
    const request = this.request;
    const { service, method } = grpcMethodOf(request.url) ?? { service: "", method: "" };
    const call: GrpcCallView = { id: request.id, route: request.route, url: request.url, service, method };
    const codec = decoder?.codec(request.url, direction);
    return new GrpcRewriter(
      this.chain.grpcMessageLimit,
      (message) => this.chain.runGrpcMessage({ direction, ...message }, call, codec, this.context),
      () => this.chain.bodySkipped("onGrpcMessage"),
    );
  }

  #eventRewriter(): SseRewriter | undefined {
    if (!this.chain.uses("onSseEvent")) return undefined;
    const request = this.request;
    return new SseRewriter((event) => this.chain.runSseEvent(event, request, this.context));
  }

  /**
   * Reads a request body for the onRequestBody hooks. Returns the body to
   * send whole (changed or not), the 502 when a closed plugin refused it, or,
   * past the hooks' limit, a stream of the body unchanged. `sink` sees every
   * byte the upstream is sent (the client's bytes when refused).
   */
  async holdRequestBody(
    source: AsyncIterable<Uint8Array>,
    headers: RawHeaders,
    sink: RequestBodySink,
  ): Promise<BodyOutcome | { stream: AsyncIterable<Uint8Array> }> {
    const held: Uint8Array[] = [];
    let size = 0;
    const iterator = source[Symbol.asyncIterator]();
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      held.push(next.value);
      size += next.value.byteLength;
      if (size > this.chain.bodyLimit) {
        this.chain.bodySkipped("onRequestBody");
        return { stream: teeRest(held, iterator, sink) };
      }
    }
    const body = concatBytes(held);
    const outcome = this.#runBody("onRequestBody", body, { contentType: headerValue(headers, "content-type") });
    // The record shows the body the client sent, refused or not.
    sink.chunk(outcome.refused ? body : outcome.body);
    if (!outcome.refused) sink.end();
    return outcome;
  }

  /** Runs the onResponseBody hooks over a whole held response body. */
  releaseResponseBody(head: ResponseHead, body: Uint8Array): BodyOutcome {
    const contentType = headerValue(head.headers, "content-type");
    return this.#runBody("onResponseBody", body, { contentType, response: responseView(head) });
  }

  /** Counts a held response body that outgrew the hooks' limit. */
  responseBodySkipped(): void {
    this.chain.bodySkipped("onResponseBody");
  }

  #runBody(
    hook: BodyHookName,
    body: Uint8Array,
    about: { contentType: string | undefined; response?: ResponseView },
  ): BodyOutcome {
    let text: string;
    try {
      text = strictDecoder.decode(body);
    } catch {
      // Not UTF-8 text: body hooks only ever see text.
      this.chain.bodySkipped(hook);
      return { body, changed: false };
    }
    const call = { text, size: body.byteLength, request: this.request, ...about };
    const result = this.chain.runBody(hook, call, this.context);
    if ("refusedBy" in result) return { refused: refusal(result.refusedBy) };
    if (result.text === undefined) return { body, changed: false };
    return { body: encoder.encode(result.text), changed: true };
  }
}

/** The 502 of a closed plugin failure, and which plugin it was. */
function refusal(plugin: string): DirectReply & Refusal {
  return { ...directReply(pluginFailure(plugin)), refusedBy: plugin };
}

/** The held chunks and the rest of the body, streamed on unchanged once the hooks' limit is passed. */
async function* teeRest(
  held: Uint8Array[],
  iterator: AsyncIterator<Uint8Array>,
  sink: RequestBodySink,
): AsyncGenerator<Uint8Array> {
  for (const chunk of held) {
    sink.chunk(chunk);
    yield chunk;
  }
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    sink.chunk(next.value);
    yield next.value;
  }
  sink.end();
}

/** Sets a changed body's length on a head: content-length, no chunking. */
export function withBodyLength(headers: RawHeaders, body: Uint8Array): RawHeaders {
  return patchHeaders(headers, { "content-length": String(body.byteLength), "transfer-encoding": null });
}
