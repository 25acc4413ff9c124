/**
 * The admin API's error responses: `{ "error": { "code", "message" } }`, never
 * cached, so a refusal cannot be replayed from a cache to someone else.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** One error response. */
export interface AdminErrorReply {
  status: ContentfulStatusCode;
  /** Stable machine-readable code, e.g. `unauthorized`. */
  code: string;
  /** Sentence-case text for people; never a token. */
  message: string;
  /** Extra headers, e.g. `WWW-Authenticate`. */
  headers?: Record<string, string>;
}

/**
 * Answer with a JSON error.
 *
 * @example return adminError(c, { status: 404, code: "not_found", message: "No admin route GET /x" });
 */
export function adminError(c: Context, reply: AdminErrorReply): Response {
  return c.json({ error: { code: reply.code, message: reply.message } }, reply.status, {
    ...reply.headers,
    "Cache-Control": "no-store",
  });
}
