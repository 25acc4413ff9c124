import assert from "node:assert/strict";
import { test } from "node:test";
import { WorkerWriter } from "../../../src/cli/worker-writer.ts";
import type { WorkerReport } from "../../../src/cli/worker-messages.ts";
import { Metrics, RouteMetrics, routeSnapshot } from "../../../src/core/metrics.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import type { CaptureRecord } from "../../../src/shared/record.ts";
import { MemorySink } from "../sinks/memory-sink.ts";

const logger = createLogger("error", "json", () => {});
const record = (n: number) => ({ type: "custom", id: `r${n}` }) as unknown as CaptureRecord;

function report(requests: number, active: number, pluginCalls: number): WorkerReport {
  const route = new RouteMetrics("api");
  route.requestsTotal = requests;
  route.requestsActive = active;
  route.upstreamLatency.observe(0.002);
  return {
    routes: [routeSnapshot(route)],
    queueDepth: 3,
    captureMemoryUsed: 100,
    plugins: { p: { calls: { onRequest: pluginCalls }, errors: 0 } },
  };
}

test("batches reach every sink of their route in arrival order, and are counted per sink", async () => {
  const a = new MemorySink("a");
  const b = new MemorySink("b");
  const metrics = new Metrics();
  const writer = new WorkerWriter({ sinks: new Map([["api", [a, b]]]), metrics, maxPending: 100, logger });
  writer.write("api", [record(1), record(2)]);
  writer.write("api", [record(3)]);
  await writer.drain();
  assert.deepEqual(a.records.map((r) => r.id), ["r1", "r2", "r3"]);
  assert.deepEqual(b.records.map((r) => r.id), ["r1", "r2", "r3"]);
  assert.equal(metrics.route("api").recordsWritten, 6);
});

test("past maxPending a batch is dropped and counted as queue_full; a failing sink counts write_error", async () => {
  const slow = new MemorySink("slow");
  let open!: () => void;
  slow.gate = new Promise((resolve) => (open = resolve));
  const metrics = new Metrics();
  const writer = new WorkerWriter({ sinks: new Map([["api", [slow]]]), metrics, maxPending: 3, logger });
  writer.write("api", [record(1), record(2)]);
  writer.write("api", [record(3), record(4)]);
  assert.equal(metrics.route("api").captureDropped.queue_full, 2);
  open();
  await writer.drain();
  assert.equal(slow.records.length, 2);
  slow.failWith = new Error("disk full");
  writer.write("api", [record(5)]);
  await writer.drain();
  assert.equal(metrics.route("api").captureDropped.write_error, 1);
  assert.equal(metrics.route("api").captureDropped.queue_full, 2, "kept when counters are rebuilt");
});

test("served counters are the sum over live workers plus those that ended, gauges only from live ones", () => {
  const metrics = new Metrics();
  const writer = new WorkerWriter({ sinks: new Map(), metrics, maxPending: 10, logger });
  const withDrops = report(10, 2, 5);
  withDrops.routes[0]!.captureDropped.queue_full = 4;
  writer.report(1, withDrops);
  writer.report(1, withDrops);
  writer.report(2, report(7, 1, 4));
  assert.equal(
    metrics.route("api").captureDropped.queue_full,
    4,
    "a worker's drops counted once, however often reported",
  );
  assert.equal(metrics.route("api").requestsTotal, 17);
  assert.equal(metrics.route("api").requestsActive, 3);
  assert.equal(metrics.route("api").upstreamLatency.count, 2);
  assert.equal(metrics.queueDepth(), 6);
  writer.gone(1);
  writer.report(1, report(1, 1, 1)); // its replacement starts from zero
  assert.equal(metrics.route("api").requestsTotal, 18, "the ended worker's 10 stay in the total");
  assert.equal(metrics.route("api").requestsActive, 2);
  assert.deepEqual(writer.pluginCounters("p", { plugin: "p", calls: { onRequest: 0 }, errors: 0 }), {
    plugin: "p",
    calls: { onRequest: 10 },
    errors: 0,
  });
});
