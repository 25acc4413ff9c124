/**
 * Responses tapline writes itself instead of the upstream's: a plugin's
 * `respond`, the 502 of a plugin that failed closed, and the 502 of an
 * upstream that could not be reached. One builder each, so the text a client
 * and a record see is the same wherever the failure happened.
 */
import { patchHeaders } from "../shared/raw-headers.ts";
import { stripHopByHop } from "./headers.ts";
import type { DirectResponse, ResponseHead } from "./hooks.ts";

/** A complete response tapline sends itself. */
export interface DirectReply {
  head: ResponseHead;
  body: Uint8Array;
}

const encoder = new TextEncoder();

/** A direct response as bytes, hop-by-hop headers removed and its length set. */
export function directReply(respond: DirectResponse): DirectReply {
  const body = encoder.encode(respond.body ?? "");
  const headers: string[] = [];
  for (const [name, value] of Object.entries(respond.headers ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) headers.push(name, String(item));
  }
  const withLength = patchHeaders(stripHopByHop(headers), { "content-length": String(body.byteLength) });
  return { head: { status: respond.status, statusText: "", headers: withLength }, body };
}

/**
 * The answer when a plugin fails closed: 502 naming the plugin.
 *
 * @example
 * pluginFailure("scrub").body; // "Bad Gateway: plugin scrub failed\n"
 */
export function pluginFailure(plugin: string): DirectResponse {
  return {
    status: 502,
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: `Bad Gateway: plugin ${plugin} failed\n`,
  };
}

/**
 * The 502 sent when the upstream failed before its response head: generic,
 * since the upstream's address and the failure are the operator's business,
 * with the id that finds the request's record (its correlation id, else the
 * record id).
 *
 * @example
 * upstreamFailure("req-42").body; // "Bad Gateway: the upstream did not answer (request req-42)\n"
 */
export function upstreamFailure(reference: string | undefined): DirectReply {
  const suffix = reference === undefined ? "" : ` (request ${reference.replace(/[^\x20-\x7e]/g, "?").slice(0, 200)})`;
  const body = encoder.encode(`Bad Gateway: the upstream did not answer${suffix}\n`);
  const headers = ["Content-Type", "text/plain; charset=utf-8", "Content-Length", String(body.byteLength)];
  return { head: { status: 502, statusText: "Bad Gateway", headers }, body };
}
