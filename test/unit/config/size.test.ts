import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSize } from "../../../src/config/size.ts";

test("parseSize accepts plain bytes and 1024-based units in any case", () => {
  assert.equal(parseSize("512"), 512);
  assert.equal(parseSize("512B"), 512);
  assert.equal(parseSize("50KB"), 50 * 1024);
  assert.equal(parseSize("64kb"), 64 * 1024);
  assert.equal(parseSize("100MB"), 100 * 1024 * 1024);
  assert.equal(parseSize("1GB"), 1024 ** 3);
  assert.equal(parseSize("1.5MB"), 1.5 * 1024 * 1024);
  assert.equal(parseSize("10MiB"), 10 * 1024 * 1024);
  assert.equal(parseSize("2KiB"), 2048);
  assert.equal(parseSize("0"), 0);
});

test("parseSize rejects bad input with a message naming the value and units", () => {
  assert.throws(() => parseSize("12XB"), {
    message: 'Invalid size "12XB": expected a number with an optional unit B, KB, MB or GB',
  });
  for (const bad of ["", "MB", "-1", "1..5MB", "1 2MB", "abc", "1TB"]) {
    assert.throws(() => parseSize(bad), /Invalid size/, bad);
  }
});
