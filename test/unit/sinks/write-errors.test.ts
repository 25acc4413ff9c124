import assert from "node:assert/strict";
import { test } from "node:test";
import { utf8Length } from "../../../src/sinks/write-errors.ts";

test("utf8Length matches the encoder for ASCII, 2-, 3- and 4-byte characters and lone surrogates", () => {
  const encoder = new TextEncoder();
  for (
    const text of ["", "abc", "é", "€", "😀", "a\u00e9\u20ac\ud83d\ude00z", "\ud800", "x\udc00y", "é".repeat(1000)]
  ) {
    assert.equal(utf8Length(text), encoder.encode(text).byteLength, JSON.stringify(text));
  }
});
