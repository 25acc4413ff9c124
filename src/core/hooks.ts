/**
 * The hook contract the core owns: which hooks exist, the plain-data views an
 * exchange hands to them, and `HookChain`, what an exchange, an event-stream
 * rewrite and a WebSocket relay ask of a route's plugins. `src/plugins/`
 * implements it (in QuickJS sandboxes); the core never imports a plugin
 * module, so the forwarding path can be read and tested without one.
 *
 * Views cross the sandbox boundary as JSON, so every shape here is plain
 * data. A hook returning `undefined` always means "unchanged".
 */
import type { GrpcCodec } from "../capture/grpc-decoder.ts";
import type { RecordHook } from "../capture/record-hook.ts";
import type { RawHeaders } from "../shared/raw-headers.ts";

/** Hooks on the forwarding path, in the order an exchange meets them: synchronous, short deadline. */
export const MUTATE_HOOKS = [
  "onRequest",
  "onRequestBody",
  "onResponse",
  "onResponseBody",
  "onSseEvent",
  "onWsMessage",
  "onGrpcMessage",
] as const;

/**
 * Hooks off the forwarding path. `onCaptureBatch` is `onCapture` for many
 * records in one crossing: a plugin exporting it is called once per batch.
 */
export const OBSERVE_HOOKS = ["onCapture", "onCaptureBatch"] as const;

export type MutateHookName = typeof MUTATE_HOOKS[number];
export type HookName = MutateHookName | typeof OBSERVE_HOOKS[number];
/** The hooks that see a whole body, held by the host up to a limit. */
export type BodyHookName = "onRequestBody" | "onResponseBody";

/** Every hook a plugin may export, in the order an exchange meets them. */
export const HOOK_NAMES: readonly HookName[] = [...MUTATE_HOOKS, ...OBSERVE_HOOKS];

/** Which exchange or connection a call is about, for records the plugin emits. */
export interface HookContext {
  routeName: string;
  connectionId?: string;
  /** The plugin set making the call; custom records it emits carry it. */
  generation?: number;
}

/** Headers as plugins see them: lower-case names, repeated values joined with ", ". */
export type PluginHeaders = Record<string, string>;

/** The request as mutate hooks see it. */
export interface RequestView {
  /** The exchange id (the `id` of its http record). */
  id: string;
  route: string;
  method: string;
  /** Path and query. */
  url: string;
  path: string;
  /** The query string without `?`, `""` when none. */
  query: string;
  headers: PluginHeaders;
  client_ip: string;
}

/** The response head as `onResponse` and `onResponseBody` see it. */
export interface ResponseView {
  status: number;
  status_text: string;
  headers: PluginHeaders;
}

/** One Server-Sent Event as `onSseEvent` sees it; return it changed, or `null` to drop it. */
export interface SseEventView {
  /** `message` when the event had no `event:` field. */
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

/** One WebSocket text message as `onWsMessage` sees it; return new text, `{data}`, or `null` to drop it. */
export interface WsMessageView {
  direction: "client_to_server" | "server_to_client";
  data: string;
}

/** The connection a WebSocket message belongs to. */
export interface WsConnectionView {
  /** The `id` of the upgrade's http record (the frames' `connection_id`). */
  id: string;
  route: string;
  url: string;
}

/**
 * One gRPC message as `onGrpcMessage` sees it; return `{payload_json}` (with
 * descriptors) or `{payload}` (base64, `compressed: false` for uncompressed
 * bytes in place of a compressed message) to replace it, or `null` to drop it.
 */
export interface GrpcMessageView {
  direction: "client_to_server" | "server_to_client";
  /** The message's compressed flag: its bytes are compressed with the call's `grpc-encoding`. */
  compressed: boolean;
  payload_size: number;
  /** The message bytes, base64. */
  payload: string;
  /** The message as proto3 JSON, when `--grpc-descriptors` describe the method and the bytes decoded. */
  payload_json?: unknown;
}

/** A gRPC message's bytes and its compressed flag, as a hook left them. */
export interface GrpcMessageBytes {
  compressed: boolean;
  payload: Uint8Array;
}

/** The call a gRPC message belongs to. */
export interface GrpcCallView {
  /** The `id` of the call's http record (the messages' `connection_id`). */
  id: string;
  route: string;
  /** `/package.Service/Method`. */
  url: string;
  service: string;
  method: string;
}

/** A direct answer from `onRequest`, sent without asking the upstream. */
export interface DirectResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string;
}

/** A response head in the core's raw header form. */
export interface ResponseHead {
  status: number;
  statusText: string;
  headers: RawHeaders;
}

/** The request as forwarded after every onRequest hook. */
export interface RequestDecision {
  method: string;
  url: string;
  headers: RawHeaders;
  /** Answer without the upstream (a plugin's `respond`, or 502 from a closed failure). */
  respond?: DirectResponse;
  /** False when a plugin asked not to capture this exchange. */
  capture: boolean;
}

/** A closed failure: the host answers 502 naming the plugin. */
export interface Refusal {
  refusedBy: string;
}

/** One call of a body hook: the whole body as text and the exchange it belongs to. */
export interface BodyHookCall {
  text: string;
  /** The body's size in bytes (hooks are skipped past their limit). */
  size: number;
  contentType: string | undefined;
  request: RequestView;
  /** For `onResponseBody`: the head the body belongs to. */
  response?: ResponseView;
}

/**
 * A route's plugins as the core calls them. Callers ask `uses(hook)` before
 * building any payload, so a hook no plugin exports costs nothing.
 *
 * @example
 * // What an exchange does with a request head (see Route.begin):
 * if (chain.uses("onRequest")) decision = chain.runRequest(view, headers, context);
 */
export interface HookChain extends RecordHook {
  /**
   * An exchange, stream or relay starts using the chain. Each `hold` is
   * matched by one `release`; a plugin set that a reload replaced is freed
   * once nothing holds it.
   */
  hold(): void;
  release(): void;
  /** Whether some plugin of the chain uses `hook`. */
  uses(hook: HookName): boolean;
  /** The largest body any body hook accepts. */
  readonly bodyLimit: number;
  /** Whether some body hook of `hook` wants a body of this type and size. */
  wantsBody(hook: BodyHookName, contentType: string | undefined, size: number): boolean;
  /** The largest gRPC message any onGrpcMessage hook accepts; larger ones pass unseen. */
  readonly grpcMessageLimit: number;
  /** Counts a body (or gRPC message) the hooks of `hook` did not see (too large, encoded, not text). */
  bodySkipped(hook: BodyHookName | "onGrpcMessage"): void;
  /** Runs onRequest through the chain. */
  runRequest(view: RequestView, headers: RawHeaders, context: HookContext): RequestDecision;
  /** Runs a body hook: the new text (undefined when unchanged) or a refusal. */
  runBody(hook: BodyHookName, call: BodyHookCall, context: HookContext): { text: string | undefined } | Refusal;
  /** Runs onResponse: the patched head or a refusal. */
  runResponse(head: ResponseHead, request: RequestView, context: HookContext): ResponseHead | Refusal;
  /** Runs onSseEvent: the event to send (undefined when unchanged) or null to drop it. */
  runSseEvent(event: SseEventView, request: RequestView, context: HookContext): SseEventView | null | undefined;
  /** Runs onWsMessage on a text message: the new text (undefined when unchanged) or null to drop it. */
  runWsMessage(message: WsMessageView, connection: WsConnectionView, context: HookContext): string | null | undefined;
  /**
   * Runs onGrpcMessage on one whole message: its new bytes (undefined when
   * unchanged) or null to drop it. `codec` (from the descriptors) gives the
   * hooks `payload_json` and turns a returned one back into bytes.
   */
  runGrpcMessage(
    message: { direction: GrpcMessageView["direction"]; compressed: boolean; payload: Uint8Array },
    call: GrpcCallView,
    codec: GrpcCodec | undefined,
    context: HookContext,
  ): GrpcMessageBytes | null | undefined;
}
