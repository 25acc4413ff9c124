import assert from "node:assert/strict";
import { test } from "node:test";
import { shown } from "../../../src/shared/shown-value.ts";

test("shown quotes a value and cuts a long one short, saying how long it was", () => {
  assert.equal(shown("1QB"), '"1QB"');
  assert.equal(shown(12), "12");
  const long = shown("a".repeat(5000));
  assert.ok(long.length < 120, long);
  assert.match(long, /^"a+…" \(5002 characters\)$/);
  assert.equal(shown(undefined), "undefined");
});
