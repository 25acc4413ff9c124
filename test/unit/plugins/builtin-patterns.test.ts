import assert from "node:assert/strict";
import { test } from "node:test";
import { BUILTIN_PATTERNS, compileBuiltinSet } from "../../../src/plugins/patterns/builtin-patterns.ts";
import { PatternError } from "../../../src/plugins/patterns/pattern-set.ts";

const ALL = Object.keys(BUILTIN_PATTERNS);

/** The matched texts of a scan, with the pattern name of each. */
function matches(names: string[], text: string): [string, string][] {
  const found = compileBuiltinSet(names).scan(text);
  const out: [string, string][] = [];
  for (let i = 0; i < found.length; i += 3) out.push([names[found[i + 2]!]!, text.slice(found[i]!, found[i + 1]!)]);
  return out;
}

test("each built-in pattern finds what it documents, and the set reports which one matched", () => {
  assert.deepEqual(matches(ALL, "mail ada@example.com, t=eyJhbGciOiJI.eyJzdWIi.sig; Bearer abcdefgh1234"), [
    ["email", "@example.com"],
    ["jwt", "eyJhbGciOiJI.eyJzdWIi.sig"],
    ["bearer", "Bearer abcdefgh1234"],
  ]);
  assert.deepEqual(matches(["credit_card", "ssn", "ipv4", "phone"], "4111 1111 1111 1111, 123-45-6789, 10.0.0.1"), [
    ["credit_card", "4111 1111 1111 1111"],
    ["ssn", "123-45-6789"],
    ["ipv4", "10.0.0.1"],
  ]);
  assert.deepEqual(matches(["phone"], "call +1 555 123 4567 or (555) 123-4567"), [
    ["phone", "+1 555 123 4567"],
    ["phone", "(555) 123-4567"],
  ]);
  assert.deepEqual(matches(ALL, "xeyJa.b.c version 1.2.3.4.5 000-12-3456"), []);
  assert.equal(compileBuiltinSet(["email"]).test("a@b.co"), true);
  assert.equal(compileBuiltinSet(["email"]).replaceAll("a@b.co!", "[x]"), "a[x]!");
});

test("an unknown name is refused naming it and the known ones", () => {
  assert.throws(
    () => compileBuiltinSet(["email", "iban"]),
    (error: unknown) =>
      error instanceof PatternError && error.index === 1 && /unknown built-in pattern "iban" \(known: jwt, /.test(
        error.message,
      ),
  );
});

/**
 * Texts built to make a backtracking engine work hardest on each pattern:
 * long runs of what a pattern repeats, cut just before what it needs next.
 * A pattern that backtracked more than a bounded number of steps per
 * position would take seconds to minutes on a megabyte of them.
 */
const ADVERSARIAL: Record<string, string> = {
  digits: "7".repeat(1 << 20),
  "digit groups": "4 ".repeat(1 << 19),
  "dashed digits": "1-".repeat(1 << 19),
  "dotted digits": "1.".repeat(1 << 19),
  "phone groups": "+1" + " 2".repeat(1 << 19) + "x",
  "parenthesised groups": "+1" + "(2)".repeat(1 << 18) + "-",
  "long domain": "@" + "a.".repeat(1 << 19) + "1",
  "at signs": "@a".repeat(1 << 19),
  "jwt-like": "eyJ" + "a".repeat(1 << 20) + ".",
  "bearer-like": "Bearer " + "a".repeat(1 << 20) + " ",
  letters: "a".repeat(1 << 20),
};

for (const [name, text] of Object.entries(ADVERSARIAL)) {
  test(`the built-in set scans 1 MiB of ${name} in linear time`, () => {
    const set = compileBuiltinSet(ALL);
    const started = performance.now();
    set.scan(text);
    const ms = performance.now() - started;
    // Linear scans of a megabyte take 1-30 ms here; 1 s leaves room for a loaded machine, not for a quadratic scan.
    assert.ok(ms < 1000, `${name}: ${ms.toFixed(0)} ms`);
  });
}
