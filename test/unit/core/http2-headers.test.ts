import assert from "node:assert/strict";
import { test } from "node:test";
import { http1RequestHeaders } from "../../../src/core/http2-headers.ts";

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
