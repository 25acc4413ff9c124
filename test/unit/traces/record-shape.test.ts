import assert from "node:assert/strict";
import { test } from "node:test";
import { recordProblem } from "../../../src/traces/jsonl-reader.ts";
import { GOOD_HTTP, MALFORMED_LINES } from "../../fixtures/malformed-records.ts";

test("every wrong-shaped record has a reason; a good one has none", () => {
  assert.equal(recordProblem(GOOD_HTTP), undefined);
  for (const [what, line] of MALFORMED_LINES) {
    const problem = recordProblem(JSON.parse(line));
    assert.ok(problem !== undefined, `${what} is refused`);
    assert.ok(problem.length < 200, `a short reason for ${what}: ${problem}`);
  }
});

test("fields the readers do not use are let through (older and newer writers add some)", () => {
  assert.equal(recordProblem({ ...GOOD_HTTP, extra_field: { any: ["thing"] } }), undefined);
  assert.equal(recordProblem({ ...GOOD_HTTP, tags: { team: "a", nested: { ok: [1, 2] } } }), undefined);
});
