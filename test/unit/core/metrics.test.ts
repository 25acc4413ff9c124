import assert from "node:assert/strict";
import { test } from "node:test";
import { Histogram, LATENCY_BUCKETS, Metrics } from "../../../src/core/metrics.ts";

test("Histogram counts each value in the first bucket whose bound it does not exceed", () => {
  const histogram = new Histogram([1, 2, 5]);
  for (const value of [0, 0.5, 1, 1.5, 2, 4.9, 5]) histogram.observe(value);
  assert.deepEqual(histogram.counts, [3, 2, 2]);
  assert.equal(histogram.count, 7);
  assert.equal(histogram.sum, 0 + 0.5 + 1 + 1.5 + 2 + 4.9 + 5);
});

test("Histogram values above the last bound only count towards count and sum (+Inf)", () => {
  const histogram = new Histogram([1, 2]);
  histogram.observe(3);
  histogram.observe(100);
  assert.deepEqual(histogram.counts, [0, 0]);
  assert.equal(histogram.count, 2);
  assert.equal(histogram.sum, 103);
});

test("a new Histogram has one zero count per bound", () => {
  const histogram = new Histogram(LATENCY_BUCKETS);
  assert.equal(histogram.counts.length, LATENCY_BUCKETS.length);
  assert.ok(histogram.counts.every((c) => c === 0));
  assert.equal(histogram.count, 0);
  assert.equal(histogram.sum, 0);
});

test("LATENCY_BUCKETS are strictly increasing positive seconds", () => {
  assert.ok(LATENCY_BUCKETS.length > 0);
  for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
    assert.ok(LATENCY_BUCKETS[i]! > 0);
    if (i > 0) assert.ok(LATENCY_BUCKETS[i]! > LATENCY_BUCKETS[i - 1]!);
  }
});

test("Metrics.route creates a route's counters once and keeps routes apart", () => {
  const metrics = new Metrics();
  const api = metrics.route("api");
  api.requestsTotal++;
  assert.equal(metrics.route("api"), api);
  assert.equal(metrics.route("web").requestsTotal, 0);
  assert.deepEqual([...metrics.routes.keys()], ["api", "web"]);
  assert.deepEqual(api.captureDropped, { queue_full: 0, write_error: 0, shutdown: 0, plugin: 0 });
});
