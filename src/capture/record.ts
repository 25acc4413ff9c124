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
}

export interface HttpRequestPart extends CapturedBody {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: HeaderMap;
}

export interface HttpResponsePart extends CapturedBody {
  status: number;
  status_text: string;
  headers: HeaderMap;
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
  request: HttpRequestPart;
  response?: HttpResponsePart;
  error?: string;
  /** The client went away before the response ended. */
  disconnected?: boolean;
  tags?: Record<string, unknown>;
}

export type CaptureRecord = HttpRecord;
