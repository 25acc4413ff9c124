import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import { ActivityTracker } from "../../../src/core/activity.ts";

/** Whether a promise has settled after the pending callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => done = true);
  await tick();
  return done;
}

test("whenIdle resolves at once when nothing is in flight", async () => {
  const activity = new ActivityTracker();
  assert.equal(activity.active, 0);
  assert.equal(await settled(activity.whenIdle()), true);
});

test("whenIdle waits until the last exchange leaves", async () => {
  const activity = new ActivityTracker();
  activity.enter();
  activity.enter();
  assert.equal(activity.active, 2);
  const idle = activity.whenIdle();
  assert.equal(await settled(idle), false);
  activity.leave();
  assert.equal(await settled(idle), false);
  activity.leave();
  assert.equal(activity.active, 0);
  assert.equal(await settled(idle), true);
});

test("whenIdle wakes every waiter, and a later busy period needs a new wait", async () => {
  const activity = new ActivityTracker();
  activity.enter();
  const first = activity.whenIdle();
  const second = activity.whenIdle();
  activity.leave();
  assert.equal(await settled(first), true);
  assert.equal(await settled(second), true);
  activity.enter();
  const third = activity.whenIdle();
  assert.equal(await settled(third), false);
  activity.leave();
  assert.equal(await settled(third), true);
});
