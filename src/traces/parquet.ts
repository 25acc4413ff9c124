/**
 * Records as a flat Parquet table, one row per record, for analytics engines
 * (DuckDB, Athena/Trino, ClickHouse, Spark). The schema is fixed and
 * documented in README ("Exports"): header maps and tags as JSON text,
 * bodies as text (or bytes for base64 bodies, in the `*_bytes` columns), so
 * a query needs no knowledge of tapline's nesting. Written by hyparquet-writer
 * (pure JavaScript: it runs on Node, Deno, Bun and in a compiled binary).
 */
import { parquetWriteBuffer } from "hyparquet-writer";
import type { CapturedBody, CaptureRecord } from "../shared/record.ts";
import { base64Bytes } from "./base64-bytes.ts";

/** The columns, in order, with their Parquet types. */
export const PARQUET_COLUMNS = [
  ["id", "STRING"],
  ["type", "STRING"],
  ["route", "STRING"],
  ["timestamp", "TIMESTAMP"],
  ["connection_id", "STRING"],
  ["correlation_id", "STRING"],
  ["method", "STRING"],
  ["url", "STRING"],
  ["status", "INT32"],
  ["duration_ms", "DOUBLE"],
  ["ttfb_response_ms", "DOUBLE"],
  ["request_size", "INT64"],
  ["response_size", "INT64"],
  ["request_headers", "JSON"],
  ["response_headers", "JSON"],
  ["request_body", "STRING"],
  ["request_body_bytes", "BYTE_ARRAY"],
  ["response_body", "STRING"],
  ["response_body_bytes", "BYTE_ARRAY"],
  ["error", "STRING"],
  ["event", "STRING"],
  ["data", "STRING"],
  ["direction", "STRING"],
  ["opcode", "INT32"],
  ["plugin", "STRING"],
  ["tags", "JSON"],
] as const;

type ColumnName = typeof PARQUET_COLUMNS[number][0];
type Row = Partial<Record<ColumnName, unknown>>;

/** Text of a body, and its bytes when it was captured as base64 (the decoded form preferred, as the viewer does). */
function body(part: CapturedBody | undefined): { text?: string; bytes?: Uint8Array } {
  if (part === undefined) return {};
  const text = part.body_decoded ?? part.body;
  const base64 = part.body_decoded !== undefined ? part.body_decoded_base64 : part.body_base64;
  if (text === undefined) return {};
  return base64 ? { bytes: base64Bytes(text) } : { text };
}

/** The row of one record. */
export function parquetRow(record: CaptureRecord): Row {
  const row: Row = {
    id: record.id,
    type: record.type,
    route: record.route_name,
    timestamp: new Date(record.timestamp),
  };
  if ("tags" in record && record.tags !== undefined) row.tags = JSON.stringify(record.tags);
  switch (record.type) {
    case "http": {
      const request = body(record.request);
      const response = body(record.response);
      Object.assign(row, {
        correlation_id: record.correlation_id,
        method: record.request.method,
        url: record.request.url,
        status: record.response?.status,
        duration_ms: record.duration_ms,
        ttfb_response_ms: record.ttfb_response_ms,
        request_size: BigInt(record.request.body_size),
        response_size: record.response === undefined ? undefined : BigInt(record.response.body_size),
        request_headers: JSON.stringify(record.request.headers),
        response_headers: record.response === undefined ? undefined : JSON.stringify(record.response.headers),
        request_body: request.text,
        request_body_bytes: request.bytes,
        response_body: response.text,
        response_body_bytes: response.bytes,
        error: record.error,
      });
      break;
    }
    case "sse_event":
      Object.assign(row, { connection_id: record.connection_id, event: record.event, data: record.data });
      break;
    case "grpc_message":
      Object.assign(row, {
        connection_id: record.connection_id,
        direction: record.direction,
        response_size: BigInt(record.payload_size),
        response_body_bytes: base64Bytes(record.payload),
      });
      break;
    case "websocket_frame":
      Object.assign(row, {
        connection_id: record.connection_id,
        direction: record.direction,
        opcode: record.opcode,
        response_size: BigInt(record.payload_size),
        ...(record.payload_base64
          ? { response_body_bytes: base64Bytes(record.payload ?? "") }
          : { response_body: record.payload }),
      });
      break;
    default:
      Object.assign(row, {
        connection_id: record.connection_id,
        plugin: record.plugin,
        data: JSON.stringify(record.data),
      });
  }
  return row;
}

/**
 * The Parquet file of `records` (whole, in memory: exports are bounded by
 * `--export-max-size` on the API and by the files given on the command line).
 */
export function parquetFile(records: readonly CaptureRecord[]): Uint8Array {
  const rows = records.map(parquetRow);
  const columnData = PARQUET_COLUMNS.map(([name, type]) => ({
    name,
    type,
    data: rows.map((row) => row[name] ?? null),
  }));
  return new Uint8Array(parquetWriteBuffer({ columnData } as Parameters<typeof parquetWriteBuffer>[0]));
}
