/**
 * The columns of each SQLite table and how a record fills them. Each column's
 * name, declared type and value sit in one entry, and the CREATE TABLE
 * statement, the insert and every row are generated from these lists, so a
 * value cannot land in its neighbour's column. http-tap-proxy's columns come
 * first, in its order, so its queries keep working; tapline's additions follow.
 */
import type {
  GrpcMessageRecord,
  HttpRecord,
  HttpRequestPart,
  HttpResponsePart,
  SseEventRecord,
  WebSocketFrameRecord,
} from "../shared/record.ts";
import {
  capturedBytes,
  decodedValue,
  firstHeaderValues,
  flag,
  intOrNull,
  json,
  orNull,
  textOrNull,
} from "./sqlite-values.ts";
import type { SqlValue } from "sql.js";

/** A column: name, declared type (with constraints) and its cell in the row of a source. */
export type Column<S> = readonly [name: string, type: string, value: (source: S) => SqlValue];

/** A table and its columns, in table order. */
export interface ColumnTable<S> {
  readonly name: string;
  readonly columns: readonly Column<S>[];
}

/** An http record with its headers looked up once, since a dozen columns read them. */
export interface HttpRowSource {
  readonly record: HttpRecord;
  readonly request: HttpRequestPart;
  readonly response: HttpResponsePart | undefined;
  readonly requestHeaders: ReadonlyMap<string, string>;
  readonly responseHeaders: ReadonlyMap<string, string>;
}

const requestHeader = (header: string) => (s: HttpRowSource): SqlValue => orNull(s.requestHeaders.get(header));
const responseHeader = (header: string) => (s: HttpRowSource): SqlValue => orNull(s.responseHeaders.get(header));
/** Response columns are NULL when the exchange failed before a response. */
const fromResponse = (value: (response: HttpResponsePart) => SqlValue) => (s: HttpRowSource): SqlValue =>
  s.response ? value(s.response) : null;
/** NULL rather than 0 when there is no decoded body, so "not decoded" and "decoded whole" differ. */
const decodedTruncated = (part: HttpRequestPart | HttpResponsePart): SqlValue =>
  part.body_decoded === undefined ? null : flag(part.body_decoded_truncated);

/**
 * `http_entries`. `req_proto` is the client's version as http-tap-proxy
 * writes it (`HTTP/1.1`); `resp_proto` stays NULL because records do not
 * carry the upstream's.
 */
export const HTTP_COLUMNS: readonly Column<HttpRowSource>[] = [
  ["id", "TEXT PRIMARY KEY", (s) => s.record.id],
  ["route_name", "TEXT NOT NULL", (s) => s.record.route_name],
  ["timestamp", "TEXT NOT NULL", (s) => s.record.timestamp],
  ["duration_ms", "REAL", (s) => s.record.duration_ms],
  ["client_ip", "TEXT", (s) => s.record.client_ip],
  ["error", "TEXT", (s) => orNull(s.record.error)],
  ["req_method", "TEXT", (s) => s.request.method],
  ["req_url", "TEXT", (s) => s.request.url],
  ["req_proto", "TEXT", (s) => protoOf(s.record.http_version)],
  ["req_host", "TEXT", requestHeader("host")],
  ["req_headers", "TEXT", (s) => JSON.stringify(s.request.headers)],
  ["req_body", "BLOB", (s) => capturedBytes(s.request.body, s.request.body_base64)],
  ["req_body_size", "INTEGER", (s) => s.request.body_size],
  ["req_body_truncated", "INTEGER", (s) => flag(s.request.body_truncated)],
  ["req_content_type", "TEXT", requestHeader("content-type")],
  ["req_content_length", "INTEGER", (s) => intOrNull(s.requestHeaders.get("content-length"))],
  ["req_authorization", "TEXT", requestHeader("authorization")],
  ["req_cookie", "TEXT", requestHeader("cookie")],
  ["req_user_agent", "TEXT", requestHeader("user-agent")],
  ["req_accept", "TEXT", requestHeader("accept")],
  ["req_accept_encoding", "TEXT", requestHeader("accept-encoding")],
  ["req_referer", "TEXT", requestHeader("referer")],
  ["req_origin", "TEXT", requestHeader("origin")],
  ["req_x_forwarded_for", "TEXT", requestHeader("x-forwarded-for")],
  ["req_x_request_id", "TEXT", requestHeader("x-request-id")],
  ["resp_status", "INTEGER", fromResponse((res) => res.status)],
  ["resp_status_text", "TEXT", fromResponse((res) => res.status_text)],
  ["resp_proto", "TEXT", () => null],
  ["resp_headers", "TEXT", fromResponse((res) => JSON.stringify(res.headers))],
  ["resp_body", "BLOB", fromResponse((res) => capturedBytes(res.body, res.body_base64))],
  ["resp_body_size", "INTEGER", fromResponse((res) => res.body_size)],
  ["resp_body_truncated", "INTEGER", fromResponse((res) => flag(res.body_truncated))],
  ["resp_content_type", "TEXT", responseHeader("content-type")],
  ["resp_content_length", "INTEGER", (s) => intOrNull(s.responseHeaders.get("content-length"))],
  ["resp_content_encoding", "TEXT", responseHeader("content-encoding")],
  ["resp_set_cookie", "TEXT", responseHeader("set-cookie")],
  ["resp_location", "TEXT", responseHeader("location")],
  ["resp_cache_control", "TEXT", responseHeader("cache-control")],
  ["resp_etag", "TEXT", responseHeader("etag")],
  ["resp_last_modified", "TEXT", responseHeader("last-modified")],
  ["resp_www_authenticate", "TEXT", responseHeader("www-authenticate")],
  ["resp_x_request_id", "TEXT", responseHeader("x-request-id")],
  // tapline's additions
  ["v", "INTEGER", (s) => s.record.v],
  ["correlation_id", "TEXT", (s) => orNull(s.record.correlation_id)],
  ["upstream", "TEXT", (s) => s.record.upstream],
  ["ttfb_request_ms", "REAL", (s) => s.record.ttfb_request_ms],
  ["ttfb_response_ms", "REAL", (s) => s.record.ttfb_response_ms],
  ["disconnected", "INTEGER", (s) => flag(s.record.disconnected)],
  ["sse_events", "INTEGER", (s) => orNull(s.record.sse_events)],
  ["tags", "TEXT", (s) => json(s.record.tags)],
  // Decoded (gunzipped etc.) bodies: TEXT, or a BLOB when not printable.
  ["req_body_decoded", "TEXT", (s) => decodedValue(s.request.body_decoded, s.request.body_decoded_base64)],
  ["req_body_decoded_truncated", "INTEGER", (s) => decodedTruncated(s.request)],
  ["resp_body_decoded", "TEXT", fromResponse((res) => decodedValue(res.body_decoded, res.body_decoded_base64))],
  ["resp_body_decoded_truncated", "INTEGER", fromResponse(decodedTruncated)],
  // Layout 3: the plugin set that handled the record.
  ["plugin_generation", "INTEGER", (s) => orNull(s.record.plugin_generation)],
  // Layout 4: the client's HTTP version as the record has it (`1.1`), and response trailers as JSON text.
  ["http_version", "TEXT", (s) => orNull(s.record.http_version)],
  ["resp_trailers", "TEXT", fromResponse((res) => json(res.trailers))],
  // Layout 5: gRPC calls.
  ["grpc_service", "TEXT", (s) => orNull(s.record.grpc?.service)],
  ["grpc_method", "TEXT", (s) => orNull(s.record.grpc?.method)],
  ["grpc_status", "INTEGER", (s) => orNull(s.record.grpc?.status)],
  ["grpc_message", "TEXT", (s) => orNull(s.record.grpc?.message)],
  // Layout 6: request trailers as JSON text; bodies redaction left out.
  ["req_trailers", "TEXT", (s) => json(s.request.trailers)],
  ["req_body_redacted", "INTEGER", (s) => flag(s.request.body_redacted)],
  ["resp_body_redacted", "INTEGER", fromResponse((res) => flag(res.body_redacted))],
];

/** Go's `Request.Proto` for a version: `HTTP/1.1`, `HTTP/2.0`; NULL when unknown. */
function protoOf(version: string | undefined): SqlValue {
  if (version === undefined) return null;
  return version === "2" ? "HTTP/2.0" : `HTTP/${version}`;
}

/** `websocket_frames`. */
export const FRAME_COLUMNS: readonly Column<WebSocketFrameRecord>[] = [
  ["id", "TEXT PRIMARY KEY", (r) => r.id],
  ["route_name", "TEXT NOT NULL", (r) => r.route_name],
  ["connection_id", "TEXT NOT NULL", (r) => r.connection_id],
  ["timestamp", "TEXT NOT NULL", (r) => r.timestamp],
  ["direction", "TEXT", (r) => r.direction],
  ["opcode", "INTEGER", (r) => r.opcode],
  ["opcode_name", "TEXT", (r) => r.opcode_name],
  // The relay sees whole messages; RFC 6455 requires clients to mask and servers not to.
  ["fin", "INTEGER", () => 1],
  ["masked", "INTEGER", (r) => (r.direction === "client_to_server" ? 1 : 0)],
  ["payload", "BLOB", (r) => capturedBytes(r.payload, r.payload_base64)],
  ["payload_size", "INTEGER", (r) => r.payload_size],
  // tapline's additions
  ["v", "INTEGER", (r) => r.v],
  ["payload_truncated", "INTEGER", (r) => flag(r.payload_truncated)],
  ["close_code", "INTEGER", (r) => orNull(r.close_code)],
  ["close_reason", "TEXT", (r) => orNull(r.close_reason)],
  ["tags", "TEXT", (r) => json(r.tags)],
  // Layout 3: the plugin set that handled the record.
  ["plugin_generation", "INTEGER", (r) => orNull(r.plugin_generation)],
];

/** `sse_events`. */
export const SSE_COLUMNS: readonly Column<SseEventRecord>[] = [
  ["id", "TEXT PRIMARY KEY", (r) => r.id],
  ["route_name", "TEXT NOT NULL", (r) => r.route_name],
  ["connection_id", "TEXT NOT NULL", (r) => r.connection_id],
  ["timestamp", "TEXT NOT NULL", (r) => r.timestamp],
  ["event_type", "TEXT", (r) => r.event],
  ["data", "TEXT", (r) => r.data],
  ["event_id", "TEXT", (r) => orNull(r.id_field)],
  ["retry", "INTEGER", (r) => orNull(r.retry)],
  // tapline's additions
  ["v", "INTEGER", (r) => r.v],
  ["t_delta_ms", "REAL", (r) => r.t_delta_ms],
  ["data_truncated", "INTEGER", (r) => flag(r.data_truncated)],
  ["tags", "TEXT", (r) => json(r.tags)],
  // Layout 3: the plugin set that handled the record.
  ["plugin_generation", "INTEGER", (r) => orNull(r.plugin_generation)],
];

/** `grpc_messages` (layout 5): one row per gRPC message; the payload as a BLOB. */
export const GRPC_MESSAGE_COLUMNS: readonly Column<GrpcMessageRecord>[] = [
  ["id", "TEXT PRIMARY KEY", (r) => r.id],
  ["route_name", "TEXT NOT NULL", (r) => r.route_name],
  ["connection_id", "TEXT NOT NULL", (r) => r.connection_id],
  ["timestamp", "TEXT NOT NULL", (r) => r.timestamp],
  ["direction", "TEXT", (r) => r.direction],
  ["seq", "INTEGER", (r) => r.seq],
  ["t_delta_ms", "REAL", (r) => r.t_delta_ms],
  ["compressed", "INTEGER", (r) => (r.compressed ? 1 : 0)],
  ["payload", "BLOB", (r) => capturedBytes(r.payload, true)],
  ["payload_size", "INTEGER", (r) => r.payload_size],
  ["payload_truncated", "INTEGER", (r) => flag(r.payload_truncated)],
  ["v", "INTEGER", (r) => r.v],
  ["tags", "TEXT", (r) => json(r.tags)],
  ["plugin_generation", "INTEGER", (r) => orNull(r.plugin_generation)],
  ["payload_json", "TEXT", (r) => (r.payload_json === undefined ? null : JSON.stringify(r.payload_json))],
  // Layout 6: redaction changed payload_json and dropped the payload.
  ["payload_redacted", "INTEGER", (r) => flag(r.payload_redacted)],
];

/**
 * A record of a type without its own table, such as `custom` from capture
 * scripts or a type a newer tapline wrote: any field may be missing or odd.
 */
export interface LooseRecord {
  type?: unknown;
  id?: unknown;
  route_name?: unknown;
  timestamp?: unknown;
  plugin?: unknown;
  data?: unknown;
  v?: unknown;
  tags?: unknown;
  connection_id?: unknown;
  plugin_generation?: unknown;
}

/** `custom_records`: script-emitted records, and any record type this version does not know. */
export const CUSTOM_COLUMNS: readonly Column<LooseRecord>[] = [
  ["id", "TEXT PRIMARY KEY", (r) => textOrNull(r.id)],
  ["route_name", "TEXT", (r) => textOrNull(r.route_name)],
  ["timestamp", "TEXT", (r) => textOrNull(r.timestamp)],
  ["type", "TEXT", (r) => textOrNull(r.type)],
  ["plugin", "TEXT", (r) => textOrNull(r.plugin)],
  // A type without a table keeps the whole record as its data, so nothing is lost.
  ["data", "TEXT", (r) => (r.type === "custom" ? json(r.data) : JSON.stringify(r))],
  ["v", "INTEGER", (r) => (typeof r.v === "number" ? r.v : null)],
  ["tags", "TEXT", (r) => json(r.tags)],
  // Layout 2: the exchange a plugin's custom record belongs to.
  ["connection_id", "TEXT", (r) => textOrNull(r.connection_id)],
  // Layout 3: the plugin set of the plugin that emitted it.
  ["plugin_generation", "INTEGER", (r) => (typeof r.plugin_generation === "number" ? r.plugin_generation : null)],
];

export const HTTP_ENTRIES: ColumnTable<HttpRowSource> = { name: "http_entries", columns: HTTP_COLUMNS };
export const WEBSOCKET_FRAMES: ColumnTable<WebSocketFrameRecord> = { name: "websocket_frames", columns: FRAME_COLUMNS };
export const SSE_EVENTS: ColumnTable<SseEventRecord> = { name: "sse_events", columns: SSE_COLUMNS };
export const GRPC_MESSAGES: ColumnTable<GrpcMessageRecord> = { name: "grpc_messages", columns: GRPC_MESSAGE_COLUMNS };
export const CUSTOM_RECORDS: ColumnTable<LooseRecord> = { name: "custom_records", columns: CUSTOM_COLUMNS };

/** The cells of one row, in column order. */
export function rowOf<S>(table: ColumnTable<S>, source: S): SqlValue[] {
  const columns = table.columns;
  const row = new Array<SqlValue>(columns.length);
  for (let i = 0; i < columns.length; i++) row[i] = columns[i]![2](source);
  return row;
}

/** The `http_entries` row of a record. */
export function httpRow(record: HttpRecord): SqlValue[] {
  return rowOf(HTTP_ENTRIES, {
    record,
    request: record.request,
    response: record.response,
    requestHeaders: firstHeaderValues(record.request.headers),
    responseHeaders: firstHeaderValues(record.response?.headers),
  });
}

/** The `custom_records` row of a record of any type but http, websocket_frame, sse_event and grpc_message. */
export function customRow(record: unknown): SqlValue[] {
  return rowOf(CUSTOM_RECORDS, record as LooseRecord);
}
