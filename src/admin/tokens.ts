/**
 * Admin API bearer tokens: the two scopes, what a token may look like, and
 * the store that tells which scope a presented token has. Tokens are kept
 * only as SHA-256 digests and compared in full, so neither a wrong prefix nor
 * the position of the matching token changes how long a check takes.
 */
import { ConfigError } from "../shared/errors.ts";

/** What a token may do: `admin` everything, `read` only the routes that allow reading. */
export type Scope = "admin" | "read";

/** The scopes, in the order messages list them. */
export const SCOPES: readonly Scope[] = ["admin", "read"];

/** One configured token. */
export interface AdminToken {
  token: string;
  scope: Scope;
  /** Where the token was written, for messages: `TAPLINE_ADMIN_TOKEN`, `tokens.txt:3:1`. Never the token. */
  source: string;
}

/** Shortest token accepted: a guessable token defeats the rest of the checks. */
export const MIN_TOKEN_LENGTH = 16;
/** Longest token accepted (a header line has to carry it). */
export const MAX_TOKEN_LENGTH = 1024;
/** RFC 6750's b64token: what an `Authorization: Bearer` header can carry without quoting. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Why `token` cannot be used as a bearer token, or undefined when it can.
 * The answer never contains the token, so it is safe in errors and logs.
 *
 * @example tokenProblem("short") // "must be at least 16 characters long (it has 5)"
 */
export function tokenProblem(token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH) {
    return `must be at least ${MIN_TOKEN_LENGTH} characters long (it has ${token.length})`;
  }
  if (token.length > MAX_TOKEN_LENGTH) return `must be at most ${MAX_TOKEN_LENGTH} characters long`;
  if (!B64TOKEN.test(token)) return 'may contain only letters, digits and "-._~+/", then "=" padding';
  return undefined;
}

/** A fresh admin token: 256 random bits as 64 lowercase hex digits. */
export function generateToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

interface StoredToken {
  digest: Uint8Array;
  scope: Scope;
}

/**
 * The configured tokens, held as SHA-256 digests.
 *
 * @example
 * const store = await TokenStore.create([{ token, scope: "read", source: "TAPLINE_ADMIN_TOKEN" }]);
 * await store.scopeOf(presented); // "read", or undefined for an unknown token
 */
export class TokenStore {
  private readonly stored: readonly StoredToken[];

  private constructor(stored: readonly StoredToken[]) {
    this.stored = stored;
  }

  /**
   * Hash the tokens.
   *
   * @throws ConfigError when one token is configured twice, naming both sources.
   */
  static async create(tokens: readonly AdminToken[]): Promise<TokenStore> {
    const stored: StoredToken[] = [];
    for (const token of tokens) {
      const digest = await sha256(token.token);
      const twin = stored.findIndex((other) => sameDigest(other.digest, digest));
      if (twin >= 0) {
        throw new ConfigError(`The same admin token is configured twice: ${tokens[twin]!.source} and ${token.source}`);
      }
      stored.push({ digest, scope: token.scope });
    }
    return new TokenStore(stored);
  }

  /** How many tokens there are. */
  get size(): number {
    return this.stored.length;
  }

  /** How many tokens have `scope`. */
  count(scope: Scope): number {
    return this.stored.filter((token) => token.scope === scope).length;
  }

  /**
   * The scope of a presented token, or undefined when no configured token is
   * equal to it. Every stored digest is compared in full, match or not.
   */
  async scopeOf(presented: string): Promise<Scope | undefined> {
    const digest = await sha256(presented);
    let found: Scope | undefined;
    for (const token of this.stored) {
      // No break: the time taken must not depend on which token matched.
      if (sameDigest(token.digest, digest)) found = token.scope;
    }
    return found;
  }
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Constant-time equality of two digests: every byte is looked at, whatever differs first. */
export function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}
