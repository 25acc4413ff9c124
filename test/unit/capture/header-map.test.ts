import assert from "node:assert/strict";
import { test } from "node:test";
import { canonicalHeaderName, toHeaderMap } from "../../../src/capture/header-map.ts";

test("canonicalHeaderName writes Go's canonical form", () => {
  assert.equal(canonicalHeaderName("x-request-id"), "X-Request-Id");
  assert.equal(canonicalHeaderName("CONTENT-TYPE"), "Content-Type");
  assert.equal(canonicalHeaderName("content-type"), "Content-Type");
  assert.equal(canonicalHeaderName("X-Request-ID"), "X-Request-Id");
  assert.equal(canonicalHeaderName("www-authenticate"), "Www-Authenticate");
  assert.equal(canonicalHeaderName("host"), "Host");
  assert.equal(canonicalHeaderName("x--double"), "X--Double");
  assert.equal(canonicalHeaderName("te"), "Te");
  assert.equal(canonicalHeaderName(""), "");
});

test("toHeaderMap merges names differing in case into one entry, values in order", () => {
  const map = toHeaderMap([
    "accept",
    "text/html",
    "Set-Cookie",
    "a=1",
    "ACCEPT",
    "application/json",
    "set-cookie",
    "b=2",
    "X-Empty",
    "",
  ]);
  assert.deepEqual(map, {
    Accept: ["text/html", "application/json"],
    "Set-Cookie": ["a=1", "b=2"],
    "X-Empty": [""],
  });
  assert.deepEqual(Object.keys(map), ["Accept", "Set-Cookie", "X-Empty"]);
});

test("toHeaderMap of no headers is an empty map", () => {
  assert.deepEqual(toHeaderMap([]), {});
});
