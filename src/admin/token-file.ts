/**
 * The admin token file (`--admin-token-file`, YAML `admin.token_file`, and the
 * generated `<data dir>/admin_token`): one token per line.
 *
 * ```
 * # blank lines and lines starting with "#" are ignored
 * 3f1c...e9          a bare token has the scope admin
 * admin:3f1c...e9    the same, with the scope written out
 * read:77ab...01     a token that may only read
 * ```
 *
 * A token cannot contain ":" (see tokenProblem), so the first ":" always
 * ends the scope. Errors name the file, line and column, never the token.
 */
import { ConfigError } from "../shared/errors.ts";
import { type AdminToken, type Scope, SCOPES, tokenProblem } from "./tokens.ts";

/**
 * Parse the text of a token file. `file` is used in messages and sources.
 *
 * @example parseTokenFile("read:0123456789abcdef0123\n", "tokens.txt") // [{ token: "0123...", scope: "read", source: "tokens.txt:1:6" }]
 * @throws ConfigError `<file>:<line>:<column>: <field>: <why>` with that location.
 */
export function parseTokenFile(text: string, file: string): AdminToken[] {
  const tokens: AdminToken[] = [];
  const lineOf = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const indent = raw.length - raw.trimStart().length;
    const content = raw.trim();
    if (content === "" || content.startsWith("#")) return;
    const fail = (column: number, field: string, why: string): never => {
      throw new ConfigError(`${file}:${line}:${column}: ${field}: ${why}`, { file, line, column, field });
    };
    const colon = content.indexOf(":");
    let scope: Scope = "admin";
    let token = content;
    let tokenColumn = indent + 1;
    if (colon >= 0) {
      const written = content.slice(0, colon).trim();
      // The part before ":" is not repeated: it may be the start of a mistyped token.
      if (!(SCOPES as readonly string[]).includes(written)) fail(indent + 1, "scope", "must be admin or read");
      scope = written as Scope;
      const rest = content.slice(colon + 1);
      token = rest.trim();
      tokenColumn = indent + colon + 2 + (rest.length - rest.trimStart().length);
    }
    const problem = tokenProblem(token);
    if (problem !== undefined) fail(tokenColumn, "token", `the token ${problem}`);
    const previous = lineOf.get(token);
    if (previous !== undefined) fail(tokenColumn, "token", `the same token is on line ${previous}`);
    lineOf.set(token, line);
    tokens.push({ token, scope, source: `${file}:${line}:${tokenColumn}` });
  });
  if (tokens.length === 0) {
    throw new ConfigError(
      `${file}:1:1: token: the file holds no token; write one per line, "read:" before a read-only one`,
      { file, line: 1, column: 1, field: "token" },
    );
  }
  return tokens;
}
