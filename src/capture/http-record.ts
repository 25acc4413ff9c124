import { isoTimestamp } from "./timestamp.ts";
import { headerValue, type RawHeaders } from "../shared/raw-headers.ts";
import type { BodyCapture } from "./body-capture.ts";
import { correlationId } from "./correlation.ts";
import type { RecordContext } from "./capture.ts";
import { DECODABLE_ENCODINGS } from "./decompress.ts";
import { encodeBody } from "./encode-body.ts";
import { toHeaderMap } from "./header-map.ts";
import { grpcCall, isGrpc } from "./grpc-call.ts";
import { type CapturedBody, type HttpRecord, RECORD_VERSION } from "../shared/record.ts";

/** What is known about an exchange when it starts. */
export interface HttpCaptureStart {
  routeName: string;
  upstream: string;
  method: string;
  /** Path and query as received. */
  url: string;
  requestHeaders: RawHeaders;
  /** `ip:port` of the client. */
  clientAddress: string;
  /** The client's HTTP version: `1.0`, `1.1`. */
  httpVersion: string;
}

/** A finished exchange's capture, as its record is built from it (HttpCapture). */
export interface FinishedExchange {
  readonly id: string;
  readonly start: HttpCaptureStart;
  /** Wall-clock start, epoch ms. */
  readonly startedAt: number;
  readonly request: BodyCapture;
  readonly response: BodyCapture;
  /** Milliseconds from the start; -1 when it never happened. */
  readonly requestEndMs: number;
  readonly responseHeadMs: number;
  readonly endMs: number;
  /** 0 when no response head was received. */
  readonly status: number;
  readonly statusText: string;
  readonly responseHeaders: RawHeaders | undefined;
  /** Trailer fields after the request body, when the client sent any. */
  readonly requestTrailers: RawHeaders | undefined;
  /** Trailer fields after a chunked response body, when the upstream sent any. */
  readonly responseTrailers: RawHeaders | undefined;
  readonly error: string | undefined;
  readonly disconnected: boolean;
  /** Events of an event-stream response; -1 when the response is not one. */
  readonly sseEvents: number;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

async function bodyFields(
  capture: BodyCapture,
  headers: RawHeaders | undefined,
  context: RecordContext,
): Promise<CapturedBody> {
  const fields: CapturedBody = { body_size: capture.size };
  if (capture.truncated) fields.body_truncated = true;
  if (capture.captured === 0) return fields;
  const bytes = capture.bytes();
  const { body, base64 } = encodeBody(bytes, capture.truncated, context.base64);
  fields.body = body;
  if (base64) fields.body_base64 = true;
  const encoding = headers && headerValue(headers, "content-encoding")?.trim().toLowerCase();
  // A cut compressed stream cannot be decoded reliably, so only whole bodies are.
  if (encoding && DECODABLE_ENCODINGS.has(encoding) && !capture.truncated) {
    const decoded = await context.decompress(encoding, bytes, context.maxBodySize);
    if (decoded) {
      const text = encodeBody(decoded.bytes, decoded.truncated, context.base64);
      fields.body_decoded = text.body;
      if (text.base64) fields.body_decoded_base64 = true;
      if (decoded.truncated) fields.body_decoded_truncated = true;
    }
  }
  return fields;
}

/** Builds the `type:"http"` record of a finished exchange. */
export async function buildHttpRecord(capture: FinishedExchange, context: RecordContext): Promise<HttpRecord> {
  const start = capture.start;
  const record: HttpRecord = {
    type: "http",
    v: RECORD_VERSION,
    id: capture.id,
    route_name: start.routeName,
    correlation_id: correlationId(start.requestHeaders),
    timestamp: isoTimestamp(capture.startedAt),
    duration_ms: round(capture.endMs),
    ttfb_request_ms: round(capture.requestEndMs >= 0 ? capture.requestEndMs : capture.endMs),
    ttfb_response_ms: round(capture.responseHeadMs >= 0 ? capture.responseHeadMs : capture.endMs),
    client_ip: start.clientAddress,
    upstream: start.upstream,
    http_version: start.httpVersion,
    request: {
      method: start.method,
      url: start.url,
      headers: toHeaderMap(start.requestHeaders),
      ...(capture.requestTrailers?.length ? { trailers: toHeaderMap(capture.requestTrailers) } : {}),
      ...(await bodyFields(capture.request, start.requestHeaders, context)),
    },
  };
  // JSON.stringify leaves out an undefined correlation id.
  if (capture.status !== 0) {
    record.response = {
      status: capture.status,
      status_text: capture.statusText,
      headers: toHeaderMap(capture.responseHeaders ?? []),
      ...(capture.responseTrailers?.length ? { trailers: toHeaderMap(capture.responseTrailers) } : {}),
      ...(await bodyFields(capture.response, capture.responseHeaders, context)),
    };
  }
  if (capture.error !== undefined) record.error = capture.error;
  if (capture.disconnected) record.disconnected = true;
  if (capture.sseEvents >= 0) record.sse_events = capture.sseEvents;
  if (isGrpc(start.requestHeaders)) {
    record.grpc = grpcCall(start.url, capture.responseHeaders ?? [], capture.responseTrailers ?? []);
  }
  return record;
}
