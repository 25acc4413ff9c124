import assert from "node:assert/strict";
import { test } from "node:test";
import { BodyCapture } from "../../../src/capture/body-capture.ts";
import { MemoryBudget } from "../../../src/capture/memory-budget.ts";

const decoder = new TextDecoder();
const text = (capture: BodyCapture) => decoder.decode(capture.bytes());
const chunk = (s: string) => new TextEncoder().encode(s);

test("a body under maxBodySize is kept whole", () => {
  const capture = new BodyCapture(100, new MemoryBudget(1000));
  capture.add(chunk("hello "));
  capture.add(chunk("world"));
  assert.equal(text(capture), "hello world");
  assert.equal(capture.size, 11);
  assert.equal(capture.captured, 11);
  assert.equal(capture.truncated, false);
  assert.equal(capture.budgetExhausted, false);
});

test("a single-chunk body is returned as that chunk", () => {
  const capture = new BodyCapture(100, new MemoryBudget(1000));
  const only = chunk("one");
  capture.add(only);
  assert.equal(capture.bytes(), only);
});

test("an empty capture has no bytes", () => {
  const capture = new BodyCapture(100, new MemoryBudget(1000));
  capture.add(new Uint8Array(0));
  assert.equal(capture.bytes().byteLength, 0);
  assert.equal(capture.truncated, false);
  assert.equal(capture.size, 0);
});

test("capture stops at maxBodySize, flags truncation and keeps counting the full size", () => {
  const budget = new MemoryBudget(1000);
  const capture = new BodyCapture(10, budget);
  capture.add(chunk("012345"));
  capture.add(chunk("6789ab"));
  assert.equal(text(capture), "0123456789");
  assert.equal(capture.captured, 10);
  assert.equal(capture.size, 12);
  assert.equal(capture.truncated, true);
  assert.equal(capture.budgetExhausted, false);
  capture.add(chunk("more"));
  assert.equal(capture.size, 16);
  assert.equal(capture.captured, 10);
  assert.equal(text(capture), "0123456789");
  assert.equal(budget.used, 10, "only kept bytes are reserved");
});

test("a body exactly maxBodySize long is not truncated; one more byte is", () => {
  const capture = new BodyCapture(4, new MemoryBudget(1000));
  capture.add(chunk("abcd"));
  assert.equal(capture.truncated, false);
  capture.add(new Uint8Array(0));
  assert.equal(capture.truncated, false, "an empty chunk adds nothing");
  capture.add(chunk("e"));
  assert.equal(capture.truncated, true);
  assert.equal(capture.size, 5);
  assert.equal(text(capture), "abcd");
});

test("maxBodySize 0 keeps nothing but still counts the size", () => {
  const budget = new MemoryBudget(1000);
  const capture = new BodyCapture(0, budget);
  capture.add(chunk("abc"));
  assert.equal(capture.captured, 0);
  assert.equal(capture.size, 3);
  assert.equal(capture.truncated, true);
  assert.equal(capture.budgetExhausted, false);
  assert.equal(budget.used, 0);
});

test("an exhausted memory budget truncates a capture and flags budgetExhausted", () => {
  const budget = new MemoryBudget(8);
  const first = new BodyCapture(100, budget);
  const second = new BodyCapture(100, budget);
  first.add(chunk("12345"));
  second.add(chunk("abcdefghij"));
  assert.equal(budget.used, 8);
  assert.equal(text(second), "abc");
  assert.equal(second.size, 10);
  assert.equal(second.truncated, true);
  assert.equal(second.budgetExhausted, true);
  assert.equal(first.budgetExhausted, false);

  const third = new BodyCapture(100, budget);
  third.add(chunk("x"));
  assert.equal(third.captured, 0);
  assert.equal(third.truncated, true);
  assert.equal(third.budgetExhausted, true);
});

test("release returns a capture's bytes to the budget for others to use", () => {
  const budget = new MemoryBudget(8);
  const first = new BodyCapture(100, budget);
  first.add(chunk("12345678"));
  assert.equal(budget.used, 8);
  first.release();
  assert.equal(budget.used, 0);
  const next = new BodyCapture(100, budget);
  next.add(chunk("abcdefgh"));
  assert.equal(next.truncated, false);
  assert.equal(text(next), "abcdefgh");
  assert.equal(budget.used, 8);
});

test("MemoryBudget grants up to what is left and never goes below zero", () => {
  const budget = new MemoryBudget(10);
  assert.equal(budget.limit, 10);
  assert.equal(budget.reserve(4), 4);
  assert.equal(budget.reserve(10), 6);
  assert.equal(budget.reserve(1), 0);
  assert.equal(budget.used, 10);
  budget.release(3);
  assert.equal(budget.used, 7);
  assert.equal(budget.reserve(5), 3);
  budget.release(100);
  assert.equal(budget.used, 0);
});
