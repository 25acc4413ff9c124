/**
 * Requests tapline answers itself and never forwards, the same on every
 * runtime: what Node's and Deno's parsers already refuse or drop, made
 * explicit where a runtime's server lets it through (Bun merges two Host
 * headers into one and hands CONNECT to the handler). A tap must not become
 * a tunnel, and two Host headers are a request-smuggling vector (RFC 9112
 * §3.2: a server must answer 400).
 */
import type { RawHeaders } from "../shared/raw-headers.ts";
import type { DirectResponse } from "./hooks.ts";

const TEXT = "text/plain; charset=utf-8";

/** The answer to CONNECT: a tap relays requests to its one upstream, it tunnels nothing. */
export const CONNECT_REFUSAL: DirectResponse = {
  status: 405,
  headers: { "content-type": TEXT, allow: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" },
  body: "Method Not Allowed: tapline does not tunnel CONNECT\n",
};

const DUPLICATE_HOST: DirectResponse = {
  status: 400,
  headers: { "content-type": TEXT },
  body: "Bad Request: more than one Host header\n",
};

/** Whether the request has more than one Host header (or one that a server merged from several). */
function duplicateHost(headers: RawHeaders): boolean {
  let seen = 0;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.length !== 4 || headers[i]!.toLowerCase() !== "host") continue;
    // A host name never holds a comma: a comma means a server joined several Host headers.
    if (++seen > 1 || headers[i + 1]!.includes(",")) return true;
  }
  return false;
}

/**
 * The answer for a request that must not be forwarded, or undefined.
 *
 * @example refusalOf({ method: "CONNECT", ... })?.status // 405
 */
export function refusalOf(method: string, headers: RawHeaders): DirectResponse | undefined {
  if (method === "CONNECT") return CONNECT_REFUSAL;
  if (duplicateHost(headers)) return DUPLICATE_HOST;
  return undefined;
}
