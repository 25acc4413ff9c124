/**
 * Bearer-token authentication of the admin API and the scope check route
 * authors put in front of a route.
 *
 * `authenticate` runs for every path that is not health or metrics (unknown
 * paths too, so a client without a token gets 401 before any 404 and learns
 * nothing about which routes exist). It lets a `read` token through only for
 * GET and HEAD, so a write route that forgets `requireScope` is still
 * admin-only. Each route then says what it needs:
 *
 * @example
 * api.get("/api/plugins", requireScope("read"), (c) => c.json(list()));
 * api.put("/api/plugins", requireScope("admin"), async (c) => ...);
 */
import type { Context, MiddlewareHandler } from "hono";
import { adminError } from "./reply.ts";
import type { Scope, TokenStore } from "./tokens.ts";

/** What the admin middleware leaves on the context: the scope of the caller's token. */
export interface AdminEnv {
  Variables: { scope: Scope };
}

/** Methods a `read` token may use. */
const READ_METHODS = new Set(["GET", "HEAD"]);

const CHALLENGE = 'Bearer realm="tapline"';

/** Whether a token with scope `have` may use a route that needs `need`. */
export function allows(have: Scope, need: Scope): boolean {
  return have === "admin" || need === "read";
}

/**
 * Middleware: 401 without a valid `Authorization: Bearer <token>`, 403 for a
 * `read` token on a method that writes; otherwise sets `scope` and marks the
 * response `Cache-Control: no-store`.
 */
export function authenticate(tokens: TokenStore): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    if (header === undefined) {
      return unauthorized(c, CHALLENGE, 'Missing bearer token: send the header "Authorization: Bearer <token>"');
    }
    const match = /^Bearer +([^\s]+) *$/i.exec(header);
    if (!match) {
      return unauthorized(
        c,
        `${CHALLENGE}, error="invalid_request"`,
        'Malformed Authorization header: expected "Bearer <token>"',
      );
    }
    const scope = await tokens.scopeOf(match[1]!);
    if (scope === undefined) {
      return unauthorized(
        c,
        `${CHALLENGE}, error="invalid_token"`,
        "Unknown bearer token: it is not one of the admin API's tokens",
      );
    }
    if (!READ_METHODS.has(c.req.method) && !allows(scope, "admin")) return forbidden(c, scope, "admin");
    c.set("scope", scope);
    await next();
    c.header("Cache-Control", "no-store");
  };
}

/**
 * Middleware for one route: 403 unless the caller's token has `scope` (an
 * `admin` token has every scope). Fails closed with 401 when `authenticate`
 * did not run before it.
 */
export function requireScope(scope: Scope): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    const have = c.get("scope") as Scope | undefined;
    if (have === undefined) return unauthorized(c, CHALLENGE, "Missing bearer token: this route needs one");
    if (!allows(have, scope)) return forbidden(c, have, scope);
    await next();
  };
}

function unauthorized(c: Context, challenge: string, message: string): Response {
  return adminError(c, { status: 401, code: "unauthorized", message, headers: { "WWW-Authenticate": challenge } });
}

function forbidden(c: Context, have: Scope, need: Scope): Response {
  return adminError(c, {
    status: 403,
    code: "forbidden",
    message: `The ${have} scope does not allow ${c.req.method} ${c.req.path}: it needs a token with the ${need} scope`,
    headers: { "WWW-Authenticate": `${CHALLENGE}, error="insufficient_scope", scope="${need}"` },
  });
}
