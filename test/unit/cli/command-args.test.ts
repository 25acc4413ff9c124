import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCommandArgs } from "../../../src/cli/command-args.ts";

const SPEC = { traffic: "optional", json: "boolean", duration: "string" } as const;

test("an optional flag takes the next argument, an = value, or stands alone", () => {
  assert.deepEqual(parseCommandArgs(["--traffic", "20"], SPEC, "u").flags, { traffic: "20" });
  assert.deepEqual(parseCommandArgs(["--traffic=5"], SPEC, "u").flags, { traffic: "5" });
  assert.deepEqual(parseCommandArgs(["--traffic"], SPEC, "u").flags, { traffic: true });
  assert.deepEqual(parseCommandArgs(["--traffic", "--json"], SPEC, "u").flags, { traffic: true, json: true });
});

test("a string flag still needs its value, and unknown flags are usage errors", () => {
  assert.throws(() => parseCommandArgs(["--duration"], SPEC, "usage line"), /--duration needs a value\. Usage: usage/);
  assert.throws(() => parseCommandArgs(["--rate", "2"], SPEC, "u"), /Unknown option --rate/);
});
