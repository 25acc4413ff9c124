/**
 * Decoding of `content-encoding` bodies for the record, supplied by the
 * runtime adapter (the core has no zlib of its own on every runtime).
 */

/** Result of decoding: the bytes, cut at the limit when `truncated`. */
export interface Decompressed {
  bytes: Uint8Array;
  truncated: boolean;
}

/**
 * Decodes `bytes` compressed with `encoding` (gzip, x-gzip, deflate or br),
 * stopping at `limit` output bytes so a small bomb cannot expand without bound.
 * Resolves undefined for encodings it does not know or data it cannot decode.
 */
export type Decompressor = (
  encoding: string,
  bytes: Uint8Array,
  limit: number,
) => Promise<Decompressed | undefined>;

/** Encodings tapline decodes for the record. */
export const DECODABLE_ENCODINGS = new Set(["gzip", "x-gzip", "deflate", "br"]);
