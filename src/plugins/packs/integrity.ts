/**
 * Digests of pack files and archives, with Web Crypto (the same on Node, Deno
 * and Bun): `sha256-<base64>` integrity strings as npm and browsers write
 * them (Subresource Integrity), and hex digests for each file in the lock.
 */
import { toBase64 } from "../../shared/base64.ts";

/** The SHA-256 of `bytes`. */
async function digest(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

/** `sha256-<base64>` of `bytes`. */
export async function integrityOf(bytes: Uint8Array): Promise<string> {
  return `sha256-${toBase64(await digest(bytes))}`;
}

/** Lower-case hex SHA-256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return [...await digest(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Whether `expected` (an SRI string, possibly several separated by spaces)
 * names `bytes`. Only sha256, sha384 and sha512 are understood.
 *
 * @throws Error when `expected` names no algorithm this understands.
 */
export async function matchesIntegrity(bytes: Uint8Array, expected: string): Promise<boolean> {
  const names: Record<string, string> = { sha256: "SHA-256", sha384: "SHA-384", sha512: "SHA-512" };
  const entries = expected.trim().split(/\s+/).map((part) =>
    /^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$/.exec(part)
  );
  const known = entries.filter((m): m is RegExpExecArray => m !== null);
  if (known.length === 0) {
    throw new Error(`Cannot check integrity "${expected}": expected sha256-, sha384- or sha512- followed by base64`);
  }
  for (const [, algorithm, value] of known) {
    const sum = new Uint8Array(await crypto.subtle.digest(names[algorithm!]!, bytes as Uint8Array<ArrayBuffer>));
    if (toBase64(sum) === value) return true;
  }
  return false;
}
