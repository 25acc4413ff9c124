import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDuration } from "../../../src/config/duration.ts";

test("parseDuration reads Go-style durations into milliseconds", () => {
  assert.equal(parseDuration("100ms"), 100);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("2m3s4ms"), 123_004);
  assert.equal(parseDuration("1500us"), 1.5);
  assert.equal(parseDuration("0"), 0);
});

test("parseDuration requires a unit except for 0", () => {
  assert.throws(() => parseDuration("30"), /Invalid duration "30": expected a number with a unit/);
  for (const bad of ["", "s", "10x", "1h 30m", "-5s", "5sm", "1d"]) {
    assert.throws(() => parseDuration(bad), /Invalid duration/, bad);
  }
});
