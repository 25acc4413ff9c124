import assert from "node:assert/strict";
import { test } from "node:test";
import { describeError } from "../../../src/shared/describe-error.ts";

test("describeError turns non-Error values into strings", () => {
  assert.equal(describeError("socket hang up"), "socket hang up");
  assert.equal(describeError(42), "42");
  assert.equal(describeError(undefined), "undefined");
  assert.equal(describeError(null), "null");
});

test("describeError uses an Error's message, or its name when the message is empty", () => {
  assert.equal(describeError(new Error("connect ECONNREFUSED 127.0.0.1:1")), "connect ECONNREFUSED 127.0.0.1:1");
  assert.equal(describeError(new TypeError()), "TypeError");
});

test("describeError lists the errors of an AggregateError that has no message", () => {
  const error = new AggregateError([
    new Error("connect ECONNREFUSED ::1:3000"),
    new Error("connect ECONNREFUSED 127.0.0.1:3000"),
  ]);
  assert.equal(error.message, "");
  assert.equal(describeError(error), "connect ECONNREFUSED ::1:3000; connect ECONNREFUSED 127.0.0.1:3000");
});

test("describeError prefers an AggregateError's own message when it has one", () => {
  assert.equal(describeError(new AggregateError([new Error("a")], "all attempts failed")), "all attempts failed");
});

test("describeError falls back to the name of an AggregateError with no message and no errors", () => {
  assert.equal(describeError(new AggregateError([])), "AggregateError");
});

test("describeError follows a cause chain", () => {
  const root = new Error("getaddrinfo ENOTFOUND upstream.invalid");
  const middle = new Error("connect failed", { cause: root });
  const top = new TypeError("fetch failed", { cause: middle });
  assert.equal(describeError(top), "fetch failed: connect failed: getaddrinfo ENOTFOUND upstream.invalid");
});

test("describeError does not repeat a cause whose message is already included", () => {
  const cause = new Error("ECONNRESET");
  assert.equal(describeError(new Error("upstream reset: ECONNRESET", { cause })), "upstream reset: ECONNRESET");
});

test("describeError ignores a cause that is not an Error", () => {
  assert.equal(describeError(new Error("failed", { cause: { code: 7 } })), "failed");
  assert.equal(describeError(new Error("failed", { cause: "text" })), "failed");
});

test("describeError stops on a cause cycle", () => {
  const error = new Error("loop") as Error & { cause?: unknown };
  error.cause = error;
  assert.equal(describeError(error), "loop");
});

// BUG (src/core/describe-error.ts:14): a cause that is an AggregateError with an
// empty message (what fetch reports when every address of a host refused) is
// skipped because `cause.message` is "", so the record only says "fetch failed".
test("describeError includes a message-less AggregateError cause (fetch to a multi-address host)", () => {
  const cause = new AggregateError([
    new Error("connect ECONNREFUSED ::1:3000"),
    new Error("connect ECONNREFUSED 127.0.0.1:3000"),
  ]);
  assert.equal(
    describeError(new TypeError("fetch failed", { cause })),
    "fetch failed: connect ECONNREFUSED ::1:3000; connect ECONNREFUSED 127.0.0.1:3000",
  );
});
