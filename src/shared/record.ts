/**
 * Capture record shapes, one JSON object per JSONL line. Compatible with
 * http-tap-proxy's records; tapline's additions are `upstream`, `disconnected`,
 * `v`, `tags` and the `body_decoded*` fields. Schema: `schemas/record.schema.json`.
 */

/** Record format version written in every record's `v`. */
export const RECORD_VERSION = 1;

/** Header map as http-tap-proxy writes it: name (as received) to every value. */
export type HeaderMap = Record<string, string[]>;

/** A captured body: text when valid UTF-8 without control bytes, else base64. */
export interface CapturedBody {
  /** Text, or base64 when `body_base64` is true. Omitted when the body was empty. */
  body?: string;
  /** Full size seen on the wire in bytes, even when the capture was cut. */
  body_size: number;
  /** True when the capture stopped at `max_body_size` or the memory budget. */
  body_truncated?: boolean;
  body_base64?: boolean;
  /** For gzip/deflate/br bodies: the decoded body, so search and redaction see text. */
  body_decoded?: string;
  body_decoded_base64?: boolean;
  /** True when the decoded body was cut at `max_body_size`. */
  body_decoded_truncated?: boolean;
  /** True when redaction left the captured body out (a gRPC call's binary messages, with `in: [grpc]`). */
  body_redacted?: true;
}

export interface HttpRequestPart extends CapturedBody {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: HeaderMap;
  /** Trailer fields the client sent after its body, same shape as `headers`; absent when none. */
  trailers?: HeaderMap;
}

export interface HttpResponsePart extends CapturedBody {
  status: number;
  status_text: string;
  headers: HeaderMap;
  /** Trailer fields the upstream sent after a chunked body, same shape as `headers`; absent when none. */
  trailers?: HeaderMap;
}

export interface HttpRecord {
  type: "http";
  v: number;
  id: string;
  route_name: string;
  correlation_id?: string;
  /** RFC 3339 time the request started. */
  timestamp: string;
  /** Until the response body ended (or the exchange failed). */
  duration_ms: number;
  /** Until the request body was fully read. */
  ttfb_request_ms: number;
  /** Until the upstream's response head arrived. */
  ttfb_response_ms: number;
  client_ip: string;
  upstream: string;
  /** The HTTP version the client spoke (`1.0`, `1.1`); absent in records written before it was recorded. */
  http_version?: string;
  request: HttpRequestPart;
  response?: HttpResponsePart;
  error?: string;
  /** The client went away before the response ended. */
  disconnected?: boolean;
  /** Server-Sent Events seen in the response (event streams only). */
  sse_events?: number;
  /** gRPC calls (`content-type: application/grpc*`): which method, and how it ended. */
  grpc?: GrpcCall;
  tags?: Record<string, unknown>;
  /** The plugin set (generation) that handled it; absent when its route had no plugins. */
  plugin_generation?: number;
}

/** Which way a WebSocket frame travelled. */
export type FrameDirection = "client_to_server" | "server_to_client";

/** Names of the WebSocket opcodes a relay sees (RFC 6455 §5.2). */
export type OpcodeName = "text" | "binary" | "close" | "ping" | "pong";

/** One WebSocket message or control frame, captured as it passed. */
export interface WebSocketFrameRecord {
  type: "websocket_frame";
  v: number;
  id: string;
  route_name: string;
  /** The `id` of the upgrade exchange's `http` record. */
  connection_id: string;
  /** RFC 3339 time the frame passed. */
  timestamp: string;
  direction: FrameDirection;
  opcode: number;
  opcode_name: OpcodeName;
  /** Text, or base64 when `payload_base64` is true. Omitted when empty. */
  payload?: string;
  /** Full payload size in bytes, even when the capture was cut. */
  payload_size: number;
  payload_truncated?: boolean;
  payload_base64?: boolean;
  /** Close frames: the status code, when the frame carried one. */
  close_code?: number;
  close_reason?: string;
  tags?: Record<string, unknown>;
  /** The plugin set (generation) that handled it; absent when its route had no plugins. */
  plugin_generation?: number;
}

/** One Server-Sent Event, captured as it passed. */
export interface SseEventRecord {
  type: "sse_event";
  v: number;
  id: string;
  route_name: string;
  /** The `id` of the exchange's `http` record. */
  connection_id: string;
  /** RFC 3339 time the event was complete. */
  timestamp: string;
  /** Milliseconds since the response head arrived. */
  t_delta_ms: number;
  /** The `event:` field, `message` when absent. */
  event: string;
  /** The data lines joined with `\n`. */
  data: string;
  /** True when `data` was cut at `max_body_size` characters. */
  data_truncated?: boolean;
  /** The `id:` field of this event, when it had one. */
  id_field?: string;
  /** The `retry:` field (milliseconds) given with or just before this event. */
  retry?: number;
  tags?: Record<string, unknown>;
  /** The plugin set (generation) that handled it; absent when its route had no plugins. */
  plugin_generation?: number;
}

/** What the `http` record of a gRPC call says about it. */
export interface GrpcCall {
  /** From the path `/package.Service/Method`; empty when the path has another shape. */
  service: string;
  method: string;
  /** `grpc-status` of the trailers (or of a trailers-only response); absent when the call ended without one. */
  status?: number;
  /** `grpc-message`, percent-decoded; absent when none. */
  message?: string;
}

/** One gRPC message (a length-prefixed protobuf message), captured as it passed. */
export interface GrpcMessageRecord {
  type: "grpc_message";
  v: number;
  id: string;
  route_name: string;
  /** The `id` of the call's `http` record. */
  connection_id: string;
  /** RFC 3339 time the message was complete. */
  timestamp: string;
  direction: FrameDirection;
  /** Position in the call, both directions counted together from 0. */
  seq: number;
  /** Milliseconds since the request started. */
  t_delta_ms: number;
  /** The message's compressed flag (compressed with the call's `grpc-encoding`). */
  compressed: boolean;
  /** Full message size in bytes, even when the capture was cut. */
  payload_size: number;
  /** The message bytes as base64 (empty for an empty message). */
  payload: string;
  payload_base64: true;
  payload_truncated?: boolean;
  /** The message as proto3 JSON, when `--grpc-descriptors` describe its method and it decoded. */
  payload_json?: unknown;
  /** True when redaction changed `payload_json`: `payload` is then empty, as its bytes held what was redacted. */
  payload_redacted?: true;
  tags?: Record<string, unknown>;
  /** The plugin set (generation) that handled it; absent when its route had no plugins. */
  plugin_generation?: number;
}

/** A record a plugin wrote with `emit(data)` (custom capture scripts). */
export interface CustomRecord {
  type: "custom";
  v: number;
  id: string;
  route_name: string;
  /** RFC 3339 time of the emit call. */
  timestamp: string;
  /** The id of the plugin instance that emitted it. */
  plugin: string;
  /** The `id` of the exchange (or WebSocket connection) the plugin was handling, when there was one. */
  connection_id?: string;
  /** The plugin set (generation) of the plugin that emitted it. */
  plugin_generation?: number;
  /** What the plugin passed to `emit`, as JSON data. */
  data: unknown;
}

export type CaptureRecord = HttpRecord | WebSocketFrameRecord | SseEventRecord | GrpcMessageRecord | CustomRecord;
