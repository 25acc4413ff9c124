import assert from "node:assert/strict";
import { test } from "node:test";
import { mediaTypeMatches, patchHeaders, pluginHeaders, rawHeader } from "../../../src/plugins/headers.ts";

test("pluginHeaders lower-cases names and joins repeated values in order", () => {
  assert.deepEqual(
    pluginHeaders(["Accept", "a", "Host", "h", "ACCEPT", "b", "x-empty", "", "accept", "c"]),
    { accept: "a, b, c", host: "h", "x-empty": "" },
  );
  assert.deepEqual(pluginHeaders([]), {});
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
  assert.throws(() => patchHeaders([], { "x-a": "v\r\nInjected: 1" }), /invalid value for header x-a/);
  assert.throws(() => patchHeaders([], { "x-a": "v\nx" }), /invalid value/);
  assert.throws(() => patchHeaders([], { "x-a": ["ok", "v\rx"] }), /invalid value/);
  assert.throws(() => patchHeaders([], { "x-a": "v\0" }), /invalid value/);
  assert.throws(() => patchHeaders([], { "bad name": "v" }), /invalid header name "bad name"/);
  assert.throws(() => patchHeaders([], { "x\r\ny": "v" }), /invalid header name/);
  assert.throws(() => patchHeaders([], { "": "v" }), /invalid header name/);
});

test("rawHeader finds the first value case-insensitively", () => {
  assert.equal(rawHeader(["A", "1", "a", "2"], "a"), "1");
  assert.equal(rawHeader(["A", "1"], "b"), undefined);
});

test("mediaTypeMatches exact types, wildcards and structured suffixes", () => {
  const yes: Array<[string, string]> = [
    ["application/json", "application/json"],
    ["Application/JSON; charset=utf-8", "application/json"],
    ["text/plain", "text/*"],
    ["text/html;charset=UTF-8", "TEXT/*"],
    ["application/vnd.api+json", "application/*+json"],
    ["application/problem+json; charset=utf-8", "application/*+json"],
    ["image/png", "*/*"],
    [" text/csv ", "text/*"],
  ];
  const no: Array<[string, string]> = [
    ["application/json", "text/*"],
    ["application/jsonx", "application/json"],
    ["application/json", "application/*+json"],
    ["text/plain", "application/*"],
    ["textual/plain", "text/*"],
    ["application/vnd.api+xml", "application/*+json"],
    ["", "text/*"],
  ];
  for (const [type, pattern] of yes) assert.equal(mediaTypeMatches(type, pattern), true, `${type} ~ ${pattern}`);
  for (const [type, pattern] of no) assert.equal(mediaTypeMatches(type, pattern), false, `${type} !~ ${pattern}`);
});
