import assert from "node:assert/strict";
import { test } from "node:test";
import { BoundedQueue } from "../../../src/capture/queue.ts";

test("BoundedQueue refuses items past its capacity without growing", () => {
  const queue = new BoundedQueue<number>(2);
  assert.equal(queue.capacity, 2);
  assert.equal(queue.offer(1), true);
  assert.equal(queue.offer(2), true);
  assert.equal(queue.offer(3), false);
  assert.equal(queue.length, 2);
});

test("drain takes every item in order and frees the capacity", () => {
  const queue = new BoundedQueue<string>(3);
  queue.offer("a");
  queue.offer("b");
  assert.deepEqual(queue.drain(), ["a", "b"]);
  assert.equal(queue.length, 0);
  assert.deepEqual(queue.drain(), []);
  for (const item of ["c", "d", "e"]) assert.equal(queue.offer(item), true);
  assert.equal(queue.offer("f"), false);
  assert.deepEqual(queue.drain(), ["c", "d", "e"]);
});

test("a drained batch is not changed by later offers", () => {
  const queue = new BoundedQueue<number>(5);
  queue.offer(1);
  const batch = queue.drain();
  queue.offer(2);
  assert.deepEqual(batch, [1]);
});

test("a queue of capacity 0 refuses everything", () => {
  const queue = new BoundedQueue<number>(0);
  assert.equal(queue.offer(1), false);
  assert.equal(queue.length, 0);
});
