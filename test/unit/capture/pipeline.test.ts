import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { HttpCapture } from "../../../src/capture/http-capture.ts";
import { MemoryBudget } from "../../../src/capture/memory-budget.ts";
import { CapturePipeline } from "../../../src/capture/pipeline.ts";
import type { CaptureRecord } from "../../../src/shared/record.ts";
import { Metrics } from "../../../src/core/metrics.ts";
import { decompress } from "../../../src/runtime/shared/decompress.ts";
import { bytes, collectingLogger } from "../core/fixture.ts";
import { MemorySink } from "../sinks/memory-sink.ts";
import { PartialWriteError } from "../../../src/sinks/write-errors.ts";

function setup(queueSize = 100, flushInterval = 10) {
  const { logger, lines } = collectingLogger();
  const pipeline = new CapturePipeline({
    queueSize,
    flushInterval,
    recordContext: { maxBodySize: 1024, decompress },
    logger,
  });
  return { pipeline, lines, budget: new MemoryBudget(1 << 20), metrics: new Metrics() };
}

/** The request url of an http record (these tests write http records only). */
function url(record: CaptureRecord): string {
  assert.equal(record.type, "http");
  return record.type === "http" ? record.request.url : "";
}

/** A finished capture with `body` as its request body. */
function finished(budget: MemoryBudget, body: string, url = "/"): HttpCapture {
  const capture = new HttpCapture(
    {
      routeName: "api",
      upstream: "http://127.0.0.1:9000",
      method: "POST",
      url,
      requestHeaders: [],
      clientAddress: "127.0.0.1:1",
      httpVersion: "1.1",
    },
    { maxBodySize: 1024, budget },
  );
  capture.request.add(bytes(body));
  capture.requestEndMs = capture.elapsed();
  capture.responseHeadMs = capture.elapsed();
  capture.status = 200;
  capture.statusText = "OK";
  capture.responseHeaders = [];
  capture.endMs = capture.elapsed();
  return capture;
}

test("a full queue drops the capture, counts queue_full and releases its budget", async () => {
  const { pipeline, budget, metrics } = setup(2);
  const m = metrics.route("api");
  const sink = new MemorySink();
  // A queue this small starts its writer at once; the next two wait behind that write.
  pipeline.submit({ capture: finished(budget, "kept", "/1"), sinks: [sink], metrics: m });
  pipeline.submit({ capture: finished(budget, "kept", "/2"), sinks: [sink], metrics: m });
  pipeline.submit({ capture: finished(budget, "kept", "/3"), sinks: [sink], metrics: m });
  assert.equal(budget.used, 12);
  pipeline.submit({ capture: finished(budget, "dropped", "/4"), sinks: [sink], metrics: m });
  assert.equal(m.captureDropped.queue_full, 1);
  assert.equal(budget.used, 12, "the dropped capture's bytes are back in the budget");
  assert.equal(pipeline.depth, 2);
  await pipeline.flush();
  assert.deepEqual(sink.records.map(url), ["/1", "/2", "/3"]);
  assert.equal(budget.used, 0);
  assert.equal(pipeline.depth, 0);
  assert.equal(m.recordsWritten, 3);
});

test("a queue filling past an eighth of its size is written without waiting for the flush interval", async () => {
  const { pipeline, budget, metrics } = setup(16, 60_000);
  const m = metrics.route("api");
  const sink = new MemorySink();
  pipeline.submit({ capture: finished(budget, "a", "/1"), sinks: [sink], metrics: m });
  await sleep(20);
  assert.deepEqual(sink.records, [], "one record waits for the (one minute) interval");
  pipeline.submit({ capture: finished(budget, "b", "/2"), sinks: [sink], metrics: m });
  await sleep(20);
  assert.deepEqual(sink.records.map(url), ["/1", "/2"], "two of sixteen start the writer");
});

test("one writeBatch call per sink per batch, shared by every route writing there", async () => {
  const { pipeline, budget, metrics } = setup();
  const shared = new MemorySink("shared");
  const own = new MemorySink("own");
  const api = metrics.route("api");
  const web = metrics.route("web");
  pipeline.submit({ capture: finished(budget, "a", "/a"), sinks: [shared, own], metrics: api });
  pipeline.submit({ capture: finished(budget, "b", "/b"), sinks: [shared], metrics: web });
  pipeline.submit({ capture: finished(budget, "c", "/c"), sinks: [shared, own], metrics: api });
  assert.equal(pipeline.depth, 3);
  await pipeline.flush();
  assert.equal(shared.batches.length, 1);
  assert.deepEqual(shared.batches[0]!.map(url), ["/a", "/b", "/c"]);
  assert.equal(own.batches.length, 1);
  assert.deepEqual(own.batches[0]!.map(url), ["/a", "/c"]);
  assert.equal(web.recordsWritten, 1);
  assert.equal(api.recordsWritten, 4, "two records, each written to two sinks");
});

test("a sink whose writeBatch throws is counted as write_error while other sinks still get the batch", async () => {
  const { pipeline, budget, metrics, lines } = setup();
  const broken = new MemorySink("broken");
  broken.failWith = new Error("disk full");
  const good = new MemorySink("good");
  const m = metrics.route("api");
  pipeline.submit({ capture: finished(budget, "a"), sinks: [broken, good], metrics: m });
  pipeline.submit({ capture: finished(budget, "b"), sinks: [broken, good], metrics: m });
  await pipeline.flush();
  assert.equal(good.records.length, 2);
  assert.equal(broken.records.length, 0);
  assert.equal(m.captureDropped.write_error, 2);
  assert.equal(m.recordsWritten, 2);
  assert.equal(budget.used, 0);
  const logged = lines.find((line) => line.msg === "Failed to write captured records");
  assert.ok(logged, JSON.stringify(lines));
  assert.equal(logged.sink, "broken");
  assert.equal(logged.records, 2);
  assert.equal(logged.error, "disk full");
  assert.equal(logged.level, "error");
});

test("a batch cut short counts exactly: the records that reached the file as written, the rest as write_error", async () => {
  const { pipeline, budget, metrics, lines } = setup();
  const partial = new MemorySink("partial");
  partial.failWith = new PartialWriteError(2, 5, new Error("ENOSPC: no space left on device"));
  const m = metrics.route("api");
  for (const body of ["a", "b", "c", "d", "e"]) {
    pipeline.submit({ capture: finished(budget, body), sinks: [partial], metrics: m });
  }
  await pipeline.flush();
  assert.equal(m.recordsWritten, 2);
  assert.equal(m.captureDropped.write_error, 3);
  const logged = lines.find((line) => line.msg === "Failed to write captured records");
  assert.equal(logged?.records, 3);
  assert.equal(logged?.written, 2);
});

test("a record that cannot be built is counted as write_error and its budget released", async () => {
  const { logger, lines } = collectingLogger();
  const pipeline = new CapturePipeline({
    queueSize: 10,
    flushInterval: 10,
    recordContext: { maxBodySize: 1024, decompress: () => Promise.reject(new Error("decoder crashed")) },
    logger,
  });
  const budget = new MemoryBudget(1024);
  const m = new Metrics().route("api");
  const sink = new MemorySink();
  const bad = finished(budget, "gz");
  bad.responseHeaders = ["Content-Encoding", "gzip"];
  bad.response.add(bytes("not really gzip"));
  pipeline.submit({ capture: bad, sinks: [sink], metrics: m });
  pipeline.submit({ capture: finished(budget, "fine", "/ok"), sinks: [sink], metrics: m });
  await pipeline.flush();
  assert.equal(m.captureDropped.write_error, 1);
  assert.deepEqual(sink.records.map(url), ["/ok"]);
  assert.equal(budget.used, 0);
  assert.ok(lines.some((line) => line.msg === "Failed to build a capture record" && line.error === "decoder crashed"));
});

test("queued captures are written by the timer without an explicit flush", async () => {
  const { pipeline, budget, metrics } = setup(10, 5);
  const sink = new MemorySink();
  pipeline.submit({ capture: finished(budget, "t"), sinks: [sink], metrics: metrics.route("api") });
  for (let i = 0; i < 100 && sink.records.length === 0; i++) await sleep(10);
  assert.equal(sink.records.length, 1);
  assert.equal(pipeline.depth, 0);
});

test("captures arriving during a write go out in the next batch", async () => {
  const { pipeline, budget, metrics } = setup();
  const m = metrics.route("api");
  const sink = new MemorySink();
  let open!: () => void;
  sink.gate = new Promise((resolve) => open = resolve);
  pipeline.submit({ capture: finished(budget, "1", "/1"), sinks: [sink], metrics: m });
  const writing = pipeline.flush();
  await sleep(5);
  pipeline.submit({ capture: finished(budget, "2", "/2"), sinks: [sink], metrics: m });
  assert.equal(pipeline.depth, 1);
  open();
  await writing;
  await pipeline.flush();
  assert.deepEqual(sink.batches.map((batch) => batch.map(url)), [["/1"], ["/2"]]);
  assert.equal(budget.used, 0);
});

test("flush with nothing queued writes nothing", async () => {
  const { pipeline } = setup();
  await pipeline.flush();
  assert.equal(pipeline.depth, 0);
});

test("captured bytes stay reserved until their records are written", async () => {
  const { pipeline, budget, metrics } = setup();
  const sink = new MemorySink();
  let open!: () => void;
  sink.gate = new Promise((resolve) => (open = resolve));
  pipeline.submit({ capture: finished(budget, "x".repeat(100)), sinks: [sink], metrics: metrics.route("api") });
  const flushed = pipeline.flush();
  await sleep(5);
  assert.equal(budget.used, 100, "still reserved while the sink writes");
  open();
  await flushed;
  assert.equal(budget.used, 0);
  assert.equal(sink.records.length, 1);
});

test("a batch of large captures is written in slices of bounded size", async () => {
  const { logger } = collectingLogger();
  const big = 3 * 1024 * 1024;
  const pipeline = new CapturePipeline({
    queueSize: 100,
    flushInterval: 10,
    recordContext: { maxBodySize: big, decompress },
    logger,
  });
  const budget = new MemoryBudget(64 * 1024 * 1024);
  const sink = new MemorySink();
  const route = new Metrics().route("api");
  for (let i = 0; i < 4; i++) {
    const capture = new HttpCapture(
      {
        routeName: "api",
        upstream: "http://127.0.0.1:9000",
        method: "POST",
        url: `/${i}`,
        requestHeaders: [],
        clientAddress: "127.0.0.1:1",
        httpVersion: "1.1",
      },
      { maxBodySize: big, budget },
    );
    capture.request.add(bytes("y".repeat(big)));
    capture.endMs = capture.elapsed();
    pipeline.submit({ capture, sinks: [sink], metrics: route });
  }
  await pipeline.flush();
  assert.equal(sink.records.length, 4);
  assert.ok(sink.batches.length >= 2, `4 x 3 MiB captures went out in ${sink.batches.length} write(s)`);
  assert.equal(budget.used, 0);
});

test("the runtime's garbage-collection hint runs once per 64 MiB of captured bytes written, after they are released", async () => {
  const { logger } = collectingLogger();
  const big = 8 * 1024 * 1024;
  const budget = new MemoryBudget(512 * 1024 * 1024);
  const hints: number[] = [];
  const pipeline = new CapturePipeline({
    queueSize: 100,
    flushInterval: 10,
    recordContext: { maxBodySize: big, decompress },
    logger,
    collectGarbageHint: () => hints.push(budget.used),
  });
  const sink = new MemorySink();
  const route = new Metrics().route("api");
  const body = bytes("z".repeat(big));
  // 20 x 8 MiB = 160 MiB: two hints (at 64 and 128 MiB released).
  for (let i = 0; i < 20; i++) {
    const capture = new HttpCapture(
      {
        routeName: "api",
        upstream: "http://127.0.0.1:9000",
        method: "POST",
        url: `/${i}`,
        requestHeaders: [],
        clientAddress: "127.0.0.1:1",
        httpVersion: "1.1",
      },
      { maxBodySize: big, budget },
    );
    capture.request.add(body);
    capture.endMs = capture.elapsed();
    pipeline.submit({ capture, sinks: [sink], metrics: route });
  }
  await pipeline.flush();
  assert.equal(sink.records.length, 20);
  assert.equal(hints.length, 2);
  // Each hint comes after its slice's bytes went back to the budget.
  assert.ok(hints.every((used) => used <= 160 * 1024 * 1024 - 64 * 1024 * 1024), String(hints));
});
