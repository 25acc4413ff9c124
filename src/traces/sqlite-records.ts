/**
 * Rows of tapline's SQLite tables turned back into the records they were
 * written from (the inverse of sinks/sqlite-columns.ts): BLOB bodies become
 * text, or base64 when they are not printable, exactly as the capture writer
 * encodes them, so a filter, an export or a detail view reads SQLite and JSONL
 * the same way.
 */
import { encodeBody } from "../capture/encode-body.ts";
import { toBase64 } from "../shared/base64.ts";
import type {
  CapturedBody,
  CaptureRecord,
  CustomRecord,
  FrameDirection,
  GrpcMessageRecord,
  HttpRecord,
  OpcodeName,
  SseEventRecord,
  WebSocketFrameRecord,
} from "../shared/record.ts";

/** A row as column name → value (sql.js `getAsObject`, node:sqlite `all`). */
export type Row = Record<string, unknown>;

/** The tables records are read from, and the record type each holds. */
export const RECORD_TABLES = [
  "http_entries",
  "websocket_frames",
  "sse_events",
  "grpc_messages",
  "custom_records",
] as const;
export type RecordTable = typeof RECORD_TABLES[number];

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const num = (value: unknown): number | undefined =>
  typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : undefined;
const yes = (value: unknown): true | undefined => (num(value) ? true : undefined);

function parseJson(value: unknown): unknown {
  if (typeof value !== "string") return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** Leaves out undefined fields, so a record read back equals the one written. */
function defined<T extends object>(fields: T): T {
  for (const key of Object.keys(fields) as (keyof T)[]) if (fields[key] === undefined) delete fields[key];
  return fields;
}

/** A stored body (BLOB of raw bytes, or TEXT) as record fields. */
function body(value: unknown, truncated: boolean): { text?: string; base64?: true } {
  if (value instanceof Uint8Array) {
    const encoded = encodeBody(value, truncated);
    return encoded.base64 ? { text: encoded.body, base64: true } : { text: encoded.body };
  }
  return typeof value === "string" ? { text: value } : {};
}

/** The body fields of one side of an exchange, from its columns with this prefix (`req_`, `resp_`). */
function bodyFields(row: Row, prefix: "req_" | "resp_"): CapturedBody {
  const truncated = yes(row[`${prefix}body_truncated`]);
  const captured = body(row[`${prefix}body`], truncated === true);
  const decoded = body(row[`${prefix}body_decoded`], false);
  const decodedTruncated = row[`${prefix}body_decoded_truncated`];
  return defined<CapturedBody>({
    body: captured.text,
    body_size: num(row[`${prefix}body_size`]) ?? 0,
    body_truncated: truncated,
    body_base64: captured.base64,
    body_decoded: decoded.text,
    body_decoded_base64: decoded.base64,
    body_decoded_truncated: decodedTruncated === null || decodedTruncated === undefined
      ? undefined
      : yes(decodedTruncated),
    body_redacted: yes(row[`${prefix}body_redacted`]),
  });
}

function httpRecord(row: Row): HttpRecord {
  const record = defined<HttpRecord>({
    type: "http",
    v: num(row["v"]) ?? 1,
    id: str(row["id"]) ?? "",
    route_name: str(row["route_name"]) ?? "",
    correlation_id: str(row["correlation_id"]),
    timestamp: str(row["timestamp"]) ?? "",
    duration_ms: num(row["duration_ms"]) ?? 0,
    ttfb_request_ms: num(row["ttfb_request_ms"]) ?? 0,
    ttfb_response_ms: num(row["ttfb_response_ms"]) ?? 0,
    client_ip: str(row["client_ip"]) ?? "",
    upstream: str(row["upstream"]) ?? "",
    http_version: str(row["http_version"]),
    request: {
      method: str(row["req_method"]) ?? "",
      url: str(row["req_url"]) ?? "",
      headers: (parseJson(row["req_headers"]) ?? {}) as Record<string, string[]>,
      ...bodyFields(row, "req_"),
    },
    error: str(row["error"]),
    disconnected: yes(row["disconnected"]),
    sse_events: num(row["sse_events"]),
    tags: parseJson(row["tags"]) as Record<string, unknown> | undefined,
    plugin_generation: num(row["plugin_generation"]),
  });
  const requestTrailers = parseJson(row["req_trailers"]) as Record<string, string[]> | undefined;
  if (requestTrailers !== undefined) record.request.trailers = requestTrailers;
  const grpcMethod = str(row["grpc_method"]);
  if (grpcMethod !== undefined) {
    record.grpc = defined({
      service: str(row["grpc_service"]) ?? "",
      method: grpcMethod,
      status: num(row["grpc_status"]),
      message: str(row["grpc_message"]),
    });
  }
  const status = num(row["resp_status"]);
  if (status !== undefined) {
    record.response = {
      status,
      status_text: str(row["resp_status_text"]) ?? "",
      headers: (parseJson(row["resp_headers"]) ?? {}) as Record<string, string[]>,
      ...bodyFields(row, "resp_"),
    };
    const trailers = parseJson(row["resp_trailers"]) as Record<string, string[]> | undefined;
    if (trailers !== undefined) record.response.trailers = trailers;
  }
  return record;
}

/** The fields every frame, event and message row has: who wrote it, when, and the exchange it belongs to. */
function linkedFields(row: Row) {
  return {
    v: num(row["v"]) ?? 1,
    id: str(row["id"]) ?? "",
    route_name: str(row["route_name"]) ?? "",
    connection_id: str(row["connection_id"]) ?? "",
    timestamp: str(row["timestamp"]) ?? "",
    tags: parseJson(row["tags"]) as Record<string, unknown> | undefined,
    plugin_generation: num(row["plugin_generation"]),
  };
}

function frameRecord(row: Row): WebSocketFrameRecord {
  const truncated = yes(row["payload_truncated"]);
  const payload = body(row["payload"], truncated === true);
  return defined<WebSocketFrameRecord>({
    type: "websocket_frame",
    ...linkedFields(row),
    direction: (str(row["direction"]) ?? "client_to_server") as FrameDirection,
    opcode: num(row["opcode"]) ?? 0,
    opcode_name: (str(row["opcode_name"]) ?? "text") as OpcodeName,
    payload: payload.text,
    payload_size: num(row["payload_size"]) ?? 0,
    payload_truncated: truncated,
    payload_base64: payload.base64,
    close_code: num(row["close_code"]),
    close_reason: str(row["close_reason"]),
  });
}

function grpcMessageRecord(row: Row): GrpcMessageRecord {
  const payload = row["payload"];
  return defined<GrpcMessageRecord>({
    type: "grpc_message",
    ...linkedFields(row),
    direction: (str(row["direction"]) ?? "client_to_server") as FrameDirection,
    seq: num(row["seq"]) ?? 0,
    t_delta_ms: num(row["t_delta_ms"]) ?? 0,
    compressed: yes(row["compressed"]) ?? false,
    payload_size: num(row["payload_size"]) ?? 0,
    payload: payload instanceof Uint8Array ? toBase64(payload) : "",
    payload_base64: true,
    payload_truncated: yes(row["payload_truncated"]),
    payload_json: parseJson(row["payload_json"]),
    payload_redacted: yes(row["payload_redacted"]),
  });
}

function eventRecord(row: Row): SseEventRecord {
  return defined<SseEventRecord>({
    type: "sse_event",
    ...linkedFields(row),
    t_delta_ms: num(row["t_delta_ms"]) ?? 0,
    event: str(row["event_type"]) ?? "message",
    data: str(row["data"]) ?? "",
    data_truncated: yes(row["data_truncated"]),
    id_field: str(row["event_id"]),
    retry: num(row["retry"]),
  });
}

function customRecord(row: Row): CaptureRecord {
  const type = str(row["type"]);
  // A record type without a table (written by a newer tapline) keeps the whole record as its data.
  if (type !== "custom") return (parseJson(row["data"]) ?? {}) as CaptureRecord;
  return defined<CustomRecord>({
    type: "custom",
    v: num(row["v"]) ?? 1,
    id: str(row["id"]) ?? "",
    route_name: str(row["route_name"]) ?? "",
    timestamp: str(row["timestamp"]) ?? "",
    plugin: str(row["plugin"]) ?? "",
    connection_id: str(row["connection_id"]),
    plugin_generation: num(row["plugin_generation"]),
    data: parseJson(row["data"]),
  });
}

/** The record a row of `table` was written from. */
export function recordOfRow(table: RecordTable, row: Row): CaptureRecord {
  switch (table) {
    case "http_entries":
      return httpRecord(row);
    case "websocket_frames":
      return frameRecord(row);
    case "sse_events":
      return eventRecord(row);
    case "grpc_messages":
      return grpcMessageRecord(row);
    default:
      return customRecord(row);
  }
}
