/**
 * The failures reporter, run as `npm test` runs it: a real `node --test` child over a small test file, TAP and
 * the reporter both on stdout.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const reporter = fileURLToPath(new URL("../../reporters/failures.js", import.meta.url));

/** Runs `node --test` on `source` with TAP and the failures reporter; returns stdout. */
function runWithReporter(source: string): { stdout: string; status: number | null } {
  const dir = mkdtempSync(join(tmpdir(), "tapline-reporter-"));
  try {
    const file = join(dir, "sample.test.mjs");
    writeFileSync(file, source);
    const args = ["--test", "--test-reporter=tap", "--test-reporter-destination=stdout"];
    args.push(`--test-reporter=${reporter}`, "--test-reporter-destination=stdout", file);
    // Without NODE_TEST_CONTEXT: with it (set for this file by the outer `node --test`), the child would report
    // to this run instead of through its own reporters.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const run = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 30_000, env });
    return { stdout: run.stdout, status: run.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the log ends with each failed test's path and place, after its error; a parent's summary is not a failure", () => {
  const { stdout, status } = runWithReporter(`
import { describe, test } from "node:test";
import assert from "node:assert";
describe("outer", () => {
  test("passes", () => {});
  test("compares", () => assert.equal(1, 2));
  describe("inner", () => {
    test("throws", () => { throw new Error("boom at the bottom"); });
  });
});
`);
  assert.equal(status, 1);
  const lines = stdout.trimEnd().split("\n");
  assert.match(lines.at(-2)!, /^# failed: outer › compares \(.*sample\.test\.mjs:6\)$/);
  assert.match(lines.at(-1)!, /^# failed: outer › inner › throws \(.*sample\.test\.mjs:8\)$/);
  const details = stdout.slice(stdout.lastIndexOf("# failed tests: "));
  assert.match(details, /^# failed tests: 2\n/, "two failures, not the suites that contain them");
  assert.match(details, /✖ outer › compares\n {2}at .*sample\.test\.mjs:6\n {4}AssertionError/);
  assert.match(details, /Error: boom at the bottom/);
});

test("a run without failures gets no summary", () => {
  const { stdout, status } = runWithReporter(`import { test } from "node:test"; test("fine", () => {});`);
  assert.equal(status, 0);
  assert.ok(!stdout.includes("# failed"), stdout);
});
