/**
 * Bounded decoding of captured bodies with node:zlib, which Node, Deno and Bun
 * all provide (Web DecompressionStream lacks brotli on Node 20).
 */
import zlib from "node:zlib";
import type { Decompressed, Decompressor } from "../../capture/decompress.ts";

function decoderFor(
  encoding: string,
  firstByte: number | undefined,
): zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress | undefined {
  switch (encoding) {
    case "gzip":
    case "x-gzip":
      return zlib.createGunzip();
    case "deflate":
      // Servers send both zlib-wrapped and raw deflate under this name; a
      // zlib header starts with 0x?8 (CM = 8).
      return firstByte !== undefined && (firstByte & 0x0f) === 8 ? zlib.createInflate() : zlib.createInflateRaw();
    case "br":
      return zlib.createBrotliDecompress();
    default:
      return undefined;
  }
}

/** Decodes up to `limit` bytes; see {@link Decompressor}. */
export const decompress: Decompressor = (encoding, bytes, limit) => {
  const decoder = decoderFor(encoding, bytes[0]);
  if (!decoder) return Promise.resolve(undefined);
  return new Promise<Decompressed | undefined>((resolve) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let settled = false;
    const settle = (value: Decompressed | undefined) => {
      if (settled) return;
      settled = true;
      decoder.removeAllListeners("data");
      decoder.destroy();
      resolve(value);
    };
    const collected = (truncated: boolean): Decompressed => ({
      bytes: Buffer.concat(chunks, Math.min(size, limit)),
      truncated,
    });
    decoder.on("data", (chunk: Buffer) => {
      const room = limit - size;
      // Only output beyond the limit proves truncation: a chunk that ends
      // exactly at the limit may be the last one.
      if (chunk.byteLength > room) {
        chunks.push(chunk.subarray(0, room));
        size += room;
        settle(collected(true));
        return;
      }
      chunks.push(chunk);
      size += chunk.byteLength;
    });
    decoder.on("end", () => settle(collected(false)));
    decoder.on("error", () => settle(size > 0 ? collected(true) : undefined));
    decoder.end(bytes);
  });
};
