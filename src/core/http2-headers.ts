/**
 * Request heads between HTTP/2 and HTTP/1.1 (RFC 9113 §8.3.1): the pseudo-header
 * fields become the request line and `Host`, and split `cookie` fields (§8.2.3)
 * are joined again, since an HTTP/1.1 upstream expects one.
 */
import type { RawHeaders } from "../shared/raw-headers.ts";

/**
 * The HTTP/1.1 form of an HTTP/2 request's header list: pseudo-headers dropped,
 * `host` first from `:authority` unless the client sent `host` itself, cookies
 * joined with `; ` where the first one was.
 *
 * @example
 * http1RequestHeaders([":method", "GET", ":authority", "api.test", "cookie", "a=1", "cookie", "b=2"]);
 * // ["host", "api.test", "cookie", "a=1; b=2"]
 */
export function http1RequestHeaders(headers: RawHeaders): RawHeaders {
  const out: RawHeaders = [];
  let authority: string | undefined;
  let hasHost = false;
  let cookieAt = -1;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (name.charCodeAt(0) === 58 /* ":" */) {
      if (name === ":authority") authority = value;
      continue;
    }
    if (name === "host") hasHost = true;
    if (name === "cookie") {
      if (cookieAt !== -1) {
        out[cookieAt + 1] += `; ${value}`;
        continue;
      }
      cookieAt = out.length;
    }
    out.push(name, value);
  }
  if (!hasHost && authority !== undefined) out.unshift("host", authority);
  return out;
}

/**
 * Connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2), and
 * `http2-settings`, which belongs to the HTTP/1.1 upgrade to h2c; `te` is
 * allowed only as `trailers`.
 */
const CONNECTION_SPECIFIC = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
]);

/**
 * The HTTP/2 form of an HTTP/1.1 request head for an upstream (RFC 9113 §8.3.1):
 * the request line and `Host` become pseudo-headers, names are lowercased,
 * connection-specific fields are left out and `te` is kept only as `trailers`.
 * Repeated fields stay repeated (as arrays), as node:http2 takes them.
 *
 * @example
 * http2RequestHeaders("GET", "/a?b", "https", ["Host", "api.test", "Connection", "keep-alive", "X-A", "1"]);
 * // { ":method": "GET", ":path": "/a?b", ":scheme": "https", ":authority": "api.test", "x-a": "1" }
 */
export function http2RequestHeaders(
  method: string,
  target: string,
  scheme: "http" | "https",
  headers: RawHeaders,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { ":method": method, ":path": target, ":scheme": scheme };
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    const value = headers[i + 1]!;
    if (name === "host") {
      out[":authority"] ??= value;
      continue;
    }
    if (name === "te" && value.trim().toLowerCase() !== "trailers") continue;
    addField(out, name, value);
  }
  return out;
}

/**
 * Trailer fields for node:http2's `sendTrailers`: names lowercased, repeated
 * fields as arrays, pseudo-headers and connection-specific fields left out.
 *
 * @example
 * http2TrailerFields(["X-Sum", "abc", "Connection", "close"]); // { "x-sum": "abc" }
 */
export function http2TrailerFields(trailers: RawHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < trailers.length; i += 2) {
    const name = trailers[i]!.toLowerCase();
    if (name !== "te") addField(out, name, trailers[i + 1]!);
  }
  return out;
}

/** Adds one field to a node:http2 header object, unless HTTP/2 forbids it (RFC 9113 §8.2.2). */
function addField(out: Record<string, string | string[]>, name: string, value: string): void {
  if (CONNECTION_SPECIFIC.has(name) || name.charCodeAt(0) === 58 /* ":" */) return;
  const previous = out[name];
  if (previous === undefined) out[name] = value;
  else if (Array.isArray(previous)) previous.push(value);
  else out[name] = [previous, value];
}

/**
 * A response or trailer field object from node:http2 as a flat raw list:
 * pseudo-headers dropped, repeated fields (arrays) spread.
 *
 * @example
 * fieldList({ ":status": 200, "set-cookie": ["a=1", "b=2"] }); // ["set-cookie", "a=1", "set-cookie", "b=2"]
 */
export function fieldList(fields: Readonly<Record<string, string | string[] | number | undefined>>): RawHeaders {
  const out: RawHeaders = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || name.charCodeAt(0) === 58 /* ":" */) continue;
    if (Array.isArray(value)) { for (const one of value) out.push(name, one); }
    else out.push(name, String(value));
  }
  return out;
}
