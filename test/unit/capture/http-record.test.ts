import assert from "node:assert/strict";
import { test } from "node:test";
import zlib from "node:zlib";
import type { Decompressor } from "../../../src/capture/decompress.ts";
import { HttpCapture } from "../../../src/capture/http-capture.ts";
import { buildHttpRecord } from "../../../src/capture/http-record.ts";
import { MemoryBudget } from "../../../src/capture/memory-budget.ts";
import type { RawHeaders } from "../../../src/shared/raw-headers.ts";
import { decompress } from "../../../src/runtime/shared/decompress.ts";
import { assertValidRecord, bytes } from "../core/fixture.ts";

const TEXT = "The quick brown fox jumps over the lazy dog.\n".repeat(20);

interface Options {
  requestHeaders?: RawHeaders;
  requestBody?: Uint8Array;
  responseHeaders?: RawHeaders;
  responseBody?: Uint8Array;
  maxBodySize?: number;
  status?: number;
}

/** A finished capture run through buildHttpRecord with the real decompressor. */
async function record(options: Options, decompressor: Decompressor = decompress) {
  const maxBodySize = options.maxBodySize ?? 1024 * 1024;
  const capture = new HttpCapture(
    {
      routeName: "api",
      upstream: "http://127.0.0.1:9000",
      method: "POST",
      url: "/x",
      requestHeaders: options.requestHeaders ?? [],
      clientAddress: "127.0.0.1:4000",
      httpVersion: "1.1",
    },
    { maxBodySize, budget: new MemoryBudget(1 << 30) },
  );
  if (options.requestBody) capture.request.add(options.requestBody);
  capture.requestEndMs = 1.23456;
  capture.responseHeadMs = 2.5;
  if (options.status !== 0) {
    capture.status = options.status ?? 200;
    capture.statusText = "OK";
    capture.responseHeaders = options.responseHeaders ?? [];
  }
  if (options.responseBody) capture.response.add(options.responseBody);
  capture.endMs = 3.0004;
  const result = await buildHttpRecord(capture, { maxBodySize, decompress: decompressor });
  assertValidRecord(result);
  return result;
}

for (
  const [encoding, label, compress] of [
    ["gzip", "gzip", zlib.gzipSync],
    ["x-gzip", "gzip", zlib.gzipSync],
    ["deflate", "zlib-wrapped", zlib.deflateSync],
    ["deflate", "raw", zlib.deflateRawSync],
    ["br", "brotli", zlib.brotliCompressSync],
  ] as const
) {
  test(`a ${encoding} (${label}) response gets body_decoded`, async () => {
    const compressed = new Uint8Array(compress(Buffer.from(TEXT)));
    const result = await record({ responseHeaders: ["Content-Encoding", encoding], responseBody: compressed });
    const response = result.response!;
    assert.equal(response.body_decoded, TEXT);
    assert.equal(response.body_decoded_base64, undefined);
    assert.equal(response.body_decoded_truncated, undefined);
    assert.equal(response.body_size, compressed.byteLength);
    assert.equal(response.body_base64, true, "the compressed bytes themselves are binary");
    assert.deepEqual(new Uint8Array(Buffer.from(response.body!, "base64")), compressed);
  });
}

test("the encoding name is matched case-insensitively and trimmed", async () => {
  const compressed = new Uint8Array(zlib.gzipSync(TEXT));
  const result = await record({ responseHeaders: ["content-encoding", " GZIP "], responseBody: compressed });
  assert.equal(result.response!.body_decoded, TEXT);
});

test("a compressed request body is decoded too", async () => {
  const compressed = new Uint8Array(zlib.gzipSync('{"k":"v"}'));
  const result = await record({ requestHeaders: ["Content-Encoding", "gzip"], requestBody: compressed });
  assert.equal(result.request.body_decoded, '{"k":"v"}');
});

test("decoded binary content is flagged body_decoded_base64", async () => {
  const binary = new Uint8Array([0, 1, 2, 3, 255, 254]);
  const result = await record({
    responseHeaders: ["Content-Encoding", "gzip"],
    responseBody: new Uint8Array(zlib.gzipSync(binary)),
  });
  assert.equal(result.response!.body_decoded_base64, true);
  assert.deepEqual(new Uint8Array(Buffer.from(result.response!.body_decoded!, "base64")), binary);
});

test("a decompression bomb is cut at maxBodySize with body_decoded_truncated", async () => {
  const maxBodySize = 50_000;
  const compressed = new Uint8Array(zlib.gzipSync(Buffer.alloc(10 * 1024 * 1024, "a")));
  assert.ok(compressed.byteLength < maxBodySize, "the bomb itself fits in the capture");
  const result = await record({ maxBodySize, responseHeaders: ["Content-Encoding", "gzip"], responseBody: compressed });
  const response = result.response!;
  assert.equal(response.body_truncated, undefined);
  assert.equal(response.body_decoded_truncated, true);
  assert.equal(response.body_decoded, "a".repeat(maxBodySize));
});

test("corrupt compressed data gets no body_decoded and does not throw", async () => {
  for (const encoding of ["gzip", "deflate", "br"]) {
    const garbage = bytes("this is certainly not compressed data, whatever the header says");
    const result = await record({ responseHeaders: ["Content-Encoding", encoding], responseBody: garbage });
    assert.equal(result.response!.body_decoded, undefined, encoding);
    assert.equal(result.response!.body, "this is certainly not compressed data, whatever the header says");
  }
});

test("a truncated compressed capture is not decoded", async () => {
  const compressed = new Uint8Array(zlib.gzipSync(TEXT));
  let called = false;
  const spy: Decompressor = (encoding, data, limit) => {
    called = true;
    return decompress(encoding, data, limit);
  };
  const result = await record(
    { maxBodySize: 20, responseHeaders: ["Content-Encoding", "gzip"], responseBody: compressed },
    spy,
  );
  assert.equal(result.response!.body_truncated, true);
  assert.equal(result.response!.body_size, compressed.byteLength);
  assert.equal(result.response!.body_decoded, undefined);
  assert.equal(called, false);
});

test("unknown or identity encodings are not decoded", async () => {
  for (const encoding of ["identity", "zstd", "compress", "gzip, br"]) {
    const result = await record({ responseHeaders: ["Content-Encoding", encoding], responseBody: bytes("plain") });
    assert.equal(result.response!.body_decoded, undefined, encoding);
    assert.equal(result.response!.body, "plain");
  }
});

test("an empty compressed body has no body fields besides its size", async () => {
  const result = await record({ responseHeaders: ["Content-Encoding", "gzip"] });
  assert.deepEqual(
    { ...result.response!, headers: undefined },
    { status: 200, status_text: "OK", headers: undefined, body_size: 0 },
  );
});

test("timings are rounded to microseconds and headers canonicalised", async () => {
  const result = await record({
    requestHeaders: ["x-request-id", "r1", "accept", "a", "Accept", "b"],
    responseHeaders: ["content-type", "text/plain"],
  });
  assert.equal(result.ttfb_request_ms, 1.235);
  assert.equal(result.ttfb_response_ms, 2.5);
  assert.equal(result.duration_ms, 3);
  assert.deepEqual(result.request.headers, { "X-Request-Id": ["r1"], Accept: ["a", "b"] });
  assert.deepEqual(result.response!.headers, { "Content-Type": ["text/plain"] });
  assert.equal(result.correlation_id, "r1");
  assert.equal(result.client_ip, "127.0.0.1:4000");
  assert.ok(!Number.isNaN(Date.parse(result.timestamp)));
});

test("correlation_id falls back from X-Request-ID to X-Correlation-ID to X-Trace-ID", async () => {
  const id = async (headers: RawHeaders) => (await record({ requestHeaders: headers })).correlation_id;
  assert.equal(await id(["X-Trace-ID", "t", "X-Correlation-ID", "c"]), "c");
  assert.equal(await id(["X-Trace-ID", "t"]), "t");
  assert.equal(await id(["X-Request-ID", "", "X-Trace-ID", "t"]), "t");
  assert.equal(await id(["X-Other", "o"]), undefined);
  const written = JSON.parse(JSON.stringify(await record({}))) as Record<string, unknown>;
  assert.equal("correlation_id" in written, false, "no correlation id means no field in the JSON");
});

test("a capture without a response head has no response", async () => {
  const result = await record({ status: 0 });
  assert.equal(result.response, undefined);
  assert.equal(result.ttfb_response_ms, 2.5);
});
