import type { RawHeaders } from "../shared/raw-headers.ts";
import type { HeaderMap } from "../shared/record.ts";

/**
 * Go's canonical header name form (`content-type` → `Content-Type`), which
 * http-tap-proxy writes. Using it on every runtime keeps records identical
 * whether a runtime hands over header names as sent or lowercased.
 */
export function canonicalHeaderName(name: string): string {
  const cached = canonicalCache.get(name);
  if (cached !== undefined) return cached;
  const canonical = canonicalize(name);
  // Header names repeat across exchanges; the bound keeps odd traffic from growing it.
  if (canonicalCache.size < CANONICAL_CACHE_LIMIT) canonicalCache.set(name, canonical);
  return canonical;
}

const CANONICAL_CACHE_LIMIT = 2048;
const canonicalCache = new Map<string, string>();

function canonicalize(name: string): string {
  let out = "";
  let upper = true;
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]!;
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === "-";
  }
  return out;
}

/** A flat raw header list as the record's `{Name: [values]}` map. */
export function toHeaderMap(headers: RawHeaders): HeaderMap {
  const map: HeaderMap = {};
  for (let i = 0; i < headers.length; i += 2) {
    const name = canonicalHeaderName(headers[i]!);
    (map[name] ??= []).push(headers[i + 1]!);
  }
  return map;
}
