/**
 * Record fields as SQLite cell values. Bodies and payloads become BLOBs of the
 * raw captured bytes, never base64, so `length()` and `writefile()` work on them.
 */
import type { HeaderMap } from "../shared/record.ts";
import type { SqlValue } from "sql.js";

const encoder = new TextEncoder();

/** The raw bytes of a captured body or payload: base64 decoded, or text as UTF-8. */
export function capturedBytes(text: string | undefined, base64: boolean | undefined): Uint8Array | null {
  if (text === undefined) return null;
  return base64 ? decodeBase64(text) : encoder.encode(text);
}

// Node 20 has no Uint8Array.fromBase64; the atob loop stands in there.
const fromBase64 = (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array }).fromBase64;

function decodeBase64(text: string): Uint8Array {
  if (fromBase64) return fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A decoded body: TEXT when it was text, a BLOB when the record carries it as base64. */
export function decodedValue(text: string | undefined, base64: boolean | undefined): SqlValue {
  if (text === undefined) return null;
  return base64 ? decodeBase64(text) : text;
}

export const flag = (value: boolean | undefined): number => (value ? 1 : 0);
export const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);
export const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
export const textOrNull = (value: unknown): string | null => (typeof value === "string" ? value : null);

/** A header value that is a plain decimal number; anything else would be a misleading INTEGER. */
export function intOrNull(value: string | undefined): number | null {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return null;
  return Number(value);
}

/**
 * The first value of each header by lowercased name, the first spelling
 * winning: records carry Go-canonical names, but a reindexed file may not.
 */
export function firstHeaderValues(headers: HeaderMap | undefined): Map<string, string> {
  const found = new Map<string, string>();
  if (!headers) return found;
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (found.has(lower)) continue;
    const value = headers[name]?.[0];
    if (value !== undefined) found.set(lower, value);
  }
  return found;
}
