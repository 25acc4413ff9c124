import assert from "node:assert/strict";
import { test } from "node:test";
import {
  fieldList,
  http1RequestHeaders,
  http2RequestHeaders,
  http2TrailerFields,
} from "../../../src/core/http2-headers.ts";

test("pseudo-headers go, :authority becomes host first, split cookies are joined in place", () => {
  assert.deepEqual(
    http1RequestHeaders([
      ":method",
      "POST",
      ":path",
      "/a",
      ":scheme",
      "https",
      ":authority",
      "api.test:8443",
      "cookie",
      "a=1",
      "accept",
      "*/*",
      "cookie",
      "b=2",
    ]),
    ["host", "api.test:8443", "cookie", "a=1; b=2", "accept", "*/*"],
  );
});

test("a host the client sent itself wins over :authority, and no :authority adds no host", () => {
  assert.deepEqual(http1RequestHeaders([":authority", "a.test", "host", "b.test"]), ["host", "b.test"]);
  assert.deepEqual(http1RequestHeaders([":method", "GET", "x-a", "1"]), ["x-a", "1"]);
});

test("http2RequestHeaders: Host becomes :authority, connection-specific fields go, te stays only as trailers", () => {
  const out = http2RequestHeaders("POST", "/a?b", "https", [
    "Host",
    "api.test",
    "Connection",
    "keep-alive",
    "Keep-Alive",
    "timeout=5",
    "Transfer-Encoding",
    "chunked",
    "Upgrade",
    "websocket",
    "TE",
    "trailers",
    "Set-Thing",
    "1",
    "set-thing",
    "2",
  ]);
  assert.deepEqual(out, {
    ":method": "POST",
    ":path": "/a?b",
    ":scheme": "https",
    ":authority": "api.test",
    te: "trailers",
    "set-thing": ["1", "2"],
  });
  assert.equal(http2RequestHeaders("GET", "/", "http", ["te", "gzip"]).te, undefined);
});

test("fieldList spreads repeated fields and drops pseudo-headers", () => {
  assert.deepEqual(fieldList({ ":status": 200, "set-cookie": ["a=1", "b=2"], "x-n": "3", gone: undefined }), [
    "set-cookie",
    "a=1",
    "set-cookie",
    "b=2",
    "x-n",
    "3",
  ]);
});

test("http2TrailerFields: lowercased, repeated fields as lists, connection-specific and pseudo fields left out", () => {
  assert.deepEqual(
    http2TrailerFields([
      "X-Sum",
      "abc",
      "Connection",
      "close",
      "x-sum",
      "def",
      ":path",
      "/",
      "TE",
      "trailers",
      "Grpc-Status",
      "0",
    ]),
    { "x-sum": ["abc", "def"], "grpc-status": "0" },
  );
  assert.deepEqual(http2TrailerFields([]), {});
});
