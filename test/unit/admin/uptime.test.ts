import assert from "node:assert/strict";
import { test } from "node:test";
import { formatUptime } from "../../../src/admin/uptime.ts";

test("formatUptime writes Go-style durations truncated to seconds", () => {
  assert.equal(formatUptime(0), "0s");
  assert.equal(formatUptime(999), "0s");
  assert.equal(formatUptime(45_999), "45s");
  assert.equal(formatUptime(60_000), "1m0s");
  assert.equal(formatUptime(90_500), "1m30s");
  assert.equal(formatUptime(3_599_999), "59m59s");
  assert.equal(formatUptime(3_600_000), "1h0m0s");
  assert.equal(formatUptime(5_400_000), "1h30m0s");
  assert.equal(formatUptime(3_723_000), "1h2m3s");
  assert.equal(formatUptime(50 * 3_600_000 + 5_000), "50h0m5s");
});
