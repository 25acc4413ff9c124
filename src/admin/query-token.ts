/**
 * Tokens in a URL end up in shell history, proxy logs and Referer headers, so
 * the admin API refuses a request that carries one in its query string
 * (rather than quietly ignoring it, which would leave the client leaking).
 */
import type { MiddlewareHandler } from "hono";
import { adminError } from "./reply.ts";
import { MIN_TOKEN_LENGTH, type TokenStore } from "./tokens.ts";

/** Query parameters that clients commonly use for credentials. */
const TOKEN_PARAMETERS = new Set(["token", "access_token", "auth"]);

/**
 * Middleware: 400 `token_in_query` when a query parameter is named like a
 * credential or its name or value is a configured token.
 */
export function refuseQueryTokens(tokens: TokenStore): MiddlewareHandler {
  return async (c, next) => {
    const question = c.req.url.indexOf("?");
    if (question >= 0) {
      for (const [name, value] of new URLSearchParams(c.req.url.slice(question + 1))) {
        let where: string | undefined;
        if (TOKEN_PARAMETERS.has(name.toLowerCase())) where = `parameter "${name}"`;
        else if (await isToken(tokens, value) || await isToken(tokens, name)) where = "a parameter holds a token";
        if (where !== undefined) {
          return adminError(c, {
            status: 400,
            code: "token_in_query",
            message:
              `Tokens are not accepted in the query string (${where}): send the header "Authorization: Bearer <token>" instead`,
          });
        }
      }
    }
    await next();
  };
}

async function isToken(tokens: TokenStore, text: string): Promise<boolean> {
  return text.length >= MIN_TOKEN_LENGTH && (await tokens.scopeOf(text)) !== undefined;
}
