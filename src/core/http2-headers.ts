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
