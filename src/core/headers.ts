/**
 * Header hygiene for forwarding: which headers cross a hop and what a proxy
 * adds. Headers travel as flat raw lists (`src/shared/raw-headers.ts`).
 */
import { headerValue, type RawHeaders } from "../shared/raw-headers.ts";

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1, plus the legacy ones Go's ReverseProxy
 * drops). `expect` is answered by the listener itself, so forwarding it would
 * ask the upstream for a second 100-continue.
 */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
  "http2-settings",
]);

/** Names listed in `Connection` headers, which are hop-by-hop for this message only. */
function connectionTokens(headers: RawHeaders): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.length === 10 && headers[i]!.toLowerCase() === "connection") {
      for (const token of headers[i + 1]!.split(",")) {
        const name = token.trim().toLowerCase();
        if (name) (tokens ??= new Set()).add(name);
      }
    }
  }
  return tokens;
}

/** Returns the headers without hop-by-hop ones (including those `Connection` names). */
export function stripHopByHop(headers: RawHeaders): RawHeaders {
  const listed = connectionTokens(headers);
  const out: RawHeaders = [];
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}

/** What the forwarding headers describe about the client side of an exchange. */
export interface ForwardedFor {
  /** Client IP without port. */
  clientIp: string;
  /** `https` when the client reached tapline over TLS. */
  proto: "http" | "https";
}

/**
 * Request headers for the upstream: hop-by-hop removed, the client IP appended
 * to `X-Forwarded-For`, and `X-Forwarded-Proto`/`-Host` set only when absent,
 * because a reverse proxy in front of tapline already knows the real values.
 */
export function upstreamRequestHeaders(headers: RawHeaders, forwarded: ForwardedFor): RawHeaders {
  const out = stripHopByHop(headers);
  // `te: trailers` says the client reads trailers (gRPC requires it); it passes on as Go's ReverseProxy passes it.
  if (acceptsTrailers(headers)) out.push("te", "trailers");
  let xffIndex = -1;
  let hasProto = false;
  let hasHost = false;
  let host: string | undefined;
  for (let i = 0; i < out.length; i += 2) {
    const lower = out[i]!.toLowerCase();
    if (lower === "x-forwarded-for") {
      if (xffIndex === -1) xffIndex = i;
      else {
        // Folds repeated X-Forwarded-For lines into the first, in order.
        out[xffIndex + 1] += `, ${out[i + 1]}`;
        out.splice(i, 2);
        i -= 2;
      }
    } else if (lower === "x-forwarded-proto") hasProto = true;
    else if (lower === "x-forwarded-host") hasHost = true;
    else if (lower === "host") host = out[i + 1];
  }
  if (xffIndex === -1) out.push("X-Forwarded-For", forwarded.clientIp);
  else out[xffIndex + 1] += `, ${forwarded.clientIp}`;
  if (!hasProto) out.push("X-Forwarded-Proto", forwarded.proto);
  if (!hasHost && host !== undefined) out.push("X-Forwarded-Host", host);
  return out;
}

/** Whether a `TE` header lists `trailers`. */
function acceptsTrailers(headers: RawHeaders): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.length === 2 && headers[i]!.toLowerCase() === "te") {
      if (headers[i + 1]!.split(",").some((token) => token.split(";")[0]!.trim().toLowerCase() === "trailers")) {
        return true;
      }
    }
  }
  return false;
}

/** Response headers for the client: hop-by-hop removed. */
export function clientResponseHeaders(headers: RawHeaders): RawHeaders {
  return stripHopByHop(headers);
}

/** Whether a body is sent as is: no `content-encoding`, or `identity`. */
export function isIdentityEncoded(headers: RawHeaders): boolean {
  const encoding = headerValue(headers, "content-encoding")?.trim().toLowerCase();
  return encoding === undefined || encoding === "" || encoding === "identity";
}
