import assert from "node:assert/strict";
import { test } from "node:test";
import { headerValue, patchHeaders } from "../../../src/shared/raw-headers.ts";

test("headerValue returns the first value of a name in any case, or undefined", () => {
  const headers = ["Content-Type", "text/plain", "X-Request-ID", "first", "x-request-id", "second"];
  assert.equal(headerValue(headers, "x-request-id"), "first");
  assert.equal(headerValue(headers, "content-type"), "text/plain");
  assert.equal(headerValue(headers, "x-missing"), undefined);
  assert.equal(headerValue([], "host"), undefined);
  assert.equal(headerValue(["Host", ""], "host"), "");
});

test("patchHeaders sets, replaces every value case-insensitively and removes", () => {
  const raw = ["Host", "h", "X-A", "1", "x-a", "2", "Cookie", "c", "Keep", "k"];
  assert.deepEqual(patchHeaders(raw, { "x-A": "new", cookie: null, "X-List": ["p", "q"] }), [
    "Host",
    "h",
    "Keep",
    "k",
    "x-A",
    "new",
    "X-List",
    "p",
    "X-List",
    "q",
  ]);
  assert.deepEqual(raw, ["Host", "h", "X-A", "1", "x-a", "2", "Cookie", "c", "Keep", "k"], "the input is not changed");
  assert.equal(patchHeaders(raw, {}), raw);
  assert.deepEqual(patchHeaders(raw, { absent: null }), raw);
});

test("patchHeaders rejects CR, LF and NUL in values and invalid names", () => {
  assert.throws(() => patchHeaders([], { "x-a": "v\r\nInjected: 1" }), /Invalid value for header x-a/);
  assert.throws(() => patchHeaders([], { "x-a": "v\nx" }), /Invalid value/);
  assert.throws(() => patchHeaders([], { "x-a": ["ok", "v\rx"] }), /Invalid value/);
  assert.throws(() => patchHeaders([], { "x-a": "v\0" }), /Invalid value/);
  assert.throws(() => patchHeaders([], { "bad name": "v" }), /Invalid header name "bad name"/);
  assert.throws(() => patchHeaders([], { "x\r\ny": "v" }), /Invalid header name/);
  assert.throws(() => patchHeaders([], { "": "v" }), /Invalid header name/);
});
