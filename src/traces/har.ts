/**
 * HTTP records as HAR 1.2 entries, the format browsers and HTTP tools import.
 * WebSocket messages go in `_webSocketMessages` as Chrome writes them; bodies
 * carry `encoding: "base64"` when they are not text; a response decoded from
 * gzip etc. is given decoded (as browsers do), its wire size in `bodySize`.
 * tapline's own fields (record id, route, correlation id, error) are in
 * `_tapline`.
 */
import type { HeaderMap, HttpRecord, WebSocketFrameRecord } from "../shared/record.ts";

/** A HAR name/value pair. */
interface HarPair {
  name: string;
  value: string;
}

/** One `log.entries` item. */
export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: HarPair[];
    headers: HarPair[];
    queryString: HarPair[];
    postData?: { mimeType: string; text: string; encoding?: "base64" };
    headersSize: number;
    bodySize: number;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: HarPair[];
    headers: HarPair[];
    content: { size: number; mimeType: string; text?: string; encoding?: "base64"; compression?: number };
    redirectURL: string;
    headersSize: number;
    bodySize: number;
    _error?: string;
  };
  cache: Record<string, never>;
  timings: { send: number; wait: number; receive: number };
  _webSocketMessages?: { type: "send" | "receive"; time: number; opcode: number; data: string }[];
  _tapline: { id: string; route_name: string; correlation_id?: string; error?: string; upstream: string };
}

/** The text before the entries of a HAR document; entries follow, comma-separated, then {@link HAR_END}. */
export function harStart(creatorVersion: string): string {
  return `{"log":{"version":"1.2","creator":{"name":"tapline","version":${JSON.stringify(creatorVersion)}},"entries":[`;
}

/** The text after the entries. */
export const HAR_END = "]}}\n";

function pairs(headers: HeaderMap | undefined): HarPair[] {
  const out: HarPair[] = [];
  for (const name in headers ?? {}) for (const value of headers![name]!) out.push({ name, value });
  return out;
}

function first(headers: HeaderMap | undefined, lowerName: string): string | undefined {
  for (const name in headers ?? {}) if (name.toLowerCase() === lowerName) return headers![name]![0];
  return undefined;
}

function queryString(url: string): HarPair[] {
  const q = url.indexOf("?");
  if (q === -1) return [];
  const out: HarPair[] = [];
  for (const part of url.slice(q + 1).split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, " "));
      } catch {
        return s;
      }
    };
    out.push(
      eq === -1
        ? { name: decode(part), value: "" }
        : { name: decode(part.slice(0, eq)), value: decode(part.slice(eq + 1)) },
    );
  }
  return out;
}

/** The absolute URL of the request: its Host header, else the upstream's host. */
function absoluteUrl(record: HttpRecord): string {
  let origin = "http://localhost";
  try {
    const upstream = new URL(record.upstream);
    const host = first(record.request.headers, "host");
    origin = `${upstream.protocol}//${host ?? upstream.host}`;
    // A Host header that does not parse as an authority falls back to the upstream's.
    new URL(origin);
  } catch {
    try {
      origin = new URL(record.upstream).origin;
    } catch { /* keep the default */ }
  }
  return origin + (record.request.url.startsWith("/") ? record.request.url : `/${record.request.url}`);
}

const nonNegative = (n: number) => (Number.isFinite(n) && n > 0 ? Math.round(n * 1000) / 1000 : 0);

/** The HAR entry of an exchange, with the frames of its WebSocket (if any) in time order. */
export function harEntry(record: HttpRecord, frames: readonly WebSocketFrameRecord[] = []): HarEntry {
  const request = record.request;
  const response = record.response;
  const requestType = first(request.headers, "content-type") ?? "";
  const responseType = first(response?.headers, "content-type") ?? "";
  const entry: HarEntry = {
    startedDateTime: record.timestamp,
    time: nonNegative(record.duration_ms),
    request: {
      method: request.method,
      url: absoluteUrl(record),
      // Browsers write "HTTP/1.1" and "h2"; records written before http_version was recorded were HTTP/1.1.
      httpVersion: record.http_version === "2" ? "h2" : `HTTP/${record.http_version ?? "1.1"}`,
      cookies: [],
      headers: pairs(request.headers),
      queryString: queryString(request.url),
      headersSize: -1,
      bodySize: request.body_size ?? 0,
    },
    response: {
      status: response?.status ?? 0,
      statusText: response?.status_text ?? "",
      httpVersion: "HTTP/1.1",
      cookies: [],
      headers: pairs(response?.headers),
      content: { size: response?.body_size ?? 0, mimeType: responseType },
      redirectURL: first(response?.headers, "location") ?? "",
      headersSize: -1,
      bodySize: response?.body_size ?? 0,
    },
    cache: {},
    timings: {
      send: nonNegative(record.ttfb_request_ms),
      wait: nonNegative(record.ttfb_response_ms - record.ttfb_request_ms),
      receive: nonNegative(record.duration_ms - record.ttfb_response_ms),
    },
    _tapline: { id: record.id, route_name: record.route_name, upstream: record.upstream },
  };
  const text = request.body_decoded ?? request.body;
  if (text !== undefined) {
    const base64 = request.body_decoded !== undefined ? request.body_decoded_base64 : request.body_base64;
    entry.request.postData = { mimeType: requestType, text, ...(base64 ? { encoding: "base64" as const } : {}) };
  }
  if (response) {
    const decoded = response.body_decoded !== undefined;
    const body = decoded ? response.body_decoded : response.body;
    const base64 = decoded ? response.body_decoded_base64 : response.body_base64;
    if (body !== undefined) {
      entry.response.content.text = body;
      if (base64) entry.response.content.encoding = "base64";
    }
    if (decoded && !base64) {
      const size = new TextEncoder().encode(response.body_decoded).length;
      entry.response.content.size = size;
      entry.response.content.compression = Math.max(0, size - response.body_size);
    }
  }
  if (record.correlation_id !== undefined) entry._tapline.correlation_id = record.correlation_id;
  if (record.error !== undefined) {
    entry._tapline.error = record.error;
    entry.response._error = record.error;
  }
  if (frames.length > 0) {
    entry._webSocketMessages = frames.map((frame) => ({
      type: frame.direction === "client_to_server" ? "send" : "receive",
      time: Date.parse(frame.timestamp) / 1000,
      opcode: frame.opcode,
      data: frame.payload ?? "",
    }));
  }
  return entry;
}
