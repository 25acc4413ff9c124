import assert from "node:assert/strict";
import { test } from "node:test";
import zlib from "node:zlib";
import { decompress } from "../../../../src/runtime/shared/decompress.ts";

const TEXT = Buffer.from("decompress me, please. ".repeat(500));
const u8 = (b: Buffer) => new Uint8Array(b);

test("decompress decodes gzip, x-gzip, zlib and raw deflate, and brotli", async () => {
  const cases: Array<[string, Buffer]> = [
    ["gzip", zlib.gzipSync(TEXT)],
    ["x-gzip", zlib.gzipSync(TEXT)],
    ["deflate", zlib.deflateSync(TEXT)],
    ["deflate", zlib.deflateRawSync(TEXT)],
    ["br", zlib.brotliCompressSync(TEXT)],
  ];
  for (const [encoding, compressed] of cases) {
    const result = await decompress(encoding, u8(compressed), 1 << 20);
    assert.ok(result, encoding);
    assert.equal(result.truncated, false, encoding);
    assert.deepEqual(Buffer.from(result.bytes), TEXT, encoding);
  }
});

test("decompress resolves undefined for an unknown encoding", async () => {
  assert.equal(await decompress("zstd", u8(zlib.gzipSync(TEXT)), 1 << 20), undefined);
});

test("decompress resolves undefined for corrupt data", async () => {
  for (const encoding of ["gzip", "deflate", "br"]) {
    assert.equal(
      await decompress(encoding, new TextEncoder().encode("not compressed at all"), 1024),
      undefined,
      encoding,
    );
  }
});

test("decompress of an empty gzip stream is empty and whole", async () => {
  const result = await decompress("gzip", u8(zlib.gzipSync(Buffer.alloc(0))), 1024);
  assert.ok(result);
  assert.equal(result.bytes.byteLength, 0);
  assert.equal(result.truncated, false);
});

test("decompress stops at the limit and flags truncation", async () => {
  const bomb = u8(zlib.gzipSync(Buffer.alloc(20 * 1024 * 1024)));
  const result = await decompress("gzip", bomb, 1000);
  assert.ok(result);
  assert.equal(result.truncated, true);
  assert.equal(result.bytes.byteLength, 1000);
});

test("decompress of output exactly at the limit is not truncated", async () => {
  const result = await decompress("gzip", u8(zlib.gzipSync(TEXT)), TEXT.byteLength);
  assert.ok(result);
  assert.equal(result.truncated, false);
  assert.equal(result.bytes.byteLength, TEXT.byteLength);
});

test("a stream cut short yields what was decoded, flagged truncated", async () => {
  const varied = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `line ${i * 7919 % 10007}\n`).join(""));
  const compressed = zlib.gzipSync(varied);
  const result = await decompress("gzip", u8(compressed.subarray(0, compressed.byteLength >> 1)), 1 << 24);
  assert.ok(result);
  assert.equal(result.truncated, true);
  assert.ok(result.bytes.byteLength > 0 && result.bytes.byteLength < varied.byteLength);
  assert.deepEqual(Buffer.from(result.bytes), varied.subarray(0, result.bytes.byteLength));
});

// BUG (src/runtime/shared/decompress.ts:51): when a decoder chunk ends exactly at
// the limit (zlib emits 16 KiB chunks, so any limit that is a multiple of 16384,
// such as 64KB or 100MB), the result is settled with truncated:false even though
// more output follows, so the record omits body_decoded_truncated.
test("decompress flags truncation when the limit falls on a decoder chunk boundary", async () => {
  const compressed = u8(zlib.gzipSync(Buffer.alloc(256 * 1024, "a")));
  for (const limit of [16 * 1024, 64 * 1024]) {
    const result = await decompress("gzip", compressed, limit);
    assert.ok(result);
    assert.equal(result.bytes.byteLength, limit);
    assert.equal(result.truncated, true, `limit ${limit}: 256 KiB of output cut at ${limit} must be truncated`);
  }
});
