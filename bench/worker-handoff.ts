/**
 * Would a capture worker pay? Times, per record of a 1 KiB GET exchange and in
 * batches of 64 (the writer's eager batch), what the forwarding thread spends:
 *
 * - `encode here`: building the record and its JSON line (what the writer does
 *   today, on the forwarding thread);
 * - `clone to worker`: handing the raw capture (headers, body bytes, timings) to
 *   a `worker_threads` worker by structured clone, which then builds and
 *   encodes the records;
 * - `string to worker`: one JSON string of the raw batch per message.
 *
 * For each it prints the forwarding thread's wall time per record and the
 * process CPU per record (all threads: what one pinned core pays in total).
 *
 * Usage: taskset -c 1 node dist/bench/worker-handoff.js [--records 200000] [--json]
 */
import { Worker } from "node:worker_threads";
import { parseArgs } from "node:util";
import { BodyCapture } from "../src/capture/body-capture.ts";
import { buildHttpRecord, type FinishedExchange } from "../src/capture/http-record.ts";
import { MemoryBudget } from "../src/capture/memory-budget.ts";
import type { RecordContext } from "../src/capture/capture.ts";
import type { RawHeaders } from "../src/shared/raw-headers.ts";
import { recordJson } from "../src/sinks/record-json.ts";

const BATCH = 64;
const { values } = parseArgs({
  options: { records: { type: "string", default: "200000" }, json: { type: "boolean", default: false } },
});
const records = Number(values.records);

const requestHeaders: RawHeaders = ([
  ["host", "127.0.0.1:18280"],
  ["user-agent", "wrk"],
  ["accept", "*/*"],
  ["x-forwarded-for", "127.0.0.1"],
] as const).flat();
const responseHeaders: RawHeaders = ([
  ["server", "nginx/1.22.1"],
  ["date", "Thu, 03 Dec 2026 10:00:00 GMT"],
  ["content-type", "application/json"],
  ["content-length", "1024"],
  ["last-modified", "Thu, 03 Dec 2026 09:00:00 GMT"],
  ["connection", "keep-alive"],
  ["etag", '"6757e2a0-400"'],
  ["accept-ranges", "bytes"],
] as const).flat();
const body = new TextEncoder().encode(`{"data":"${"x".repeat(1012)}"}`);
const budget = new MemoryBudget(Number.MAX_SAFE_INTEGER);
const context: RecordContext = { maxBodySize: 1 << 20, decompress: () => Promise.resolve(undefined) };

/** A finished exchange as the tee leaves it (fresh body buffer, as the runtimes hand out). */
function exchange(): FinishedExchange {
  const response = new BodyCapture(1 << 20, budget);
  response.add(body.slice());
  return {
    id: crypto.randomUUID(),
    start: {
      routeName: "bench",
      upstream: "http://127.0.0.1:18281",
      method: "GET",
      url: "/1k.json",
      requestHeaders,
      clientAddress: "127.0.0.1:40000",
      httpVersion: "1.1",
    },
    startedAt: Date.now(),
    request: new BodyCapture(1 << 20, budget),
    response,
    requestEndMs: 0.05,
    responseHeadMs: 0.4,
    endMs: 0.45,
    status: 200,
    statusText: "OK",
    responseHeaders,
    requestTrailers: undefined,
    responseTrailers: undefined,
    error: undefined,
    disconnected: false,
    sseEvents: -1,
  };
}

/** The raw capture as plain data, what the forwarding thread would post. */
function raw(e: FinishedExchange) {
  return {
    id: e.id,
    start: e.start,
    startedAt: e.startedAt,
    timings: [e.requestEndMs, e.responseHeadMs, e.endMs],
    status: e.status,
    statusText: e.statusText,
    responseHeaders: e.responseHeaders,
    requestBody: e.request.bytes(),
    responseBody: e.response.bytes(),
  };
}

const workerSource = `
const { parentPort } = require("node:worker_threads");
const decoder = new TextDecoder();
function headerMap(h) { const m = {}; for (let i = 0; i < h.length; i += 2) (m[h[i]] ??= []).push(h[i + 1]); return m; }
parentPort.on("message", (message) => {
  if (message === "done") return parentPort.postMessage("done");
  const batch = typeof message === "string" ? JSON.parse(message) : message;
  let out = "";
  for (const r of batch) {
    const text = typeof r.responseBody === "string" ? r.responseBody : decoder.decode(r.responseBody);
    out += JSON.stringify({ type: "http", id: r.id, route_name: r.start.routeName,
      timestamp: new Date(r.startedAt).toISOString(), request: { method: r.start.method, url: r.start.url,
      headers: headerMap(r.start.requestHeaders) }, response: { status: r.status, status_text: r.statusText,
      headers: headerMap(r.responseHeaders), body: text } }) + "\\n";
  }
});
`;

interface Result {
  mode: string;
  forwardingUsPerRecord: number;
  cpuUsPerRecord: number;
}

async function measure(
  mode: string,
  handOff: (batch: FinishedExchange[]) => Promise<void> | void,
  done: () => Promise<void>,
): Promise<Result> {
  const cpu0 = process.cpuUsage();
  let busy = 0;
  for (let n = 0; n < records; n += BATCH) {
    const batch = Array.from({ length: BATCH }, exchange);
    const t = performance.now();
    await handOff(batch);
    busy += performance.now() - t;
    // Forwarding would run here; let the worker (if any) have the core between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
  await done();
  const cpu = process.cpuUsage(cpu0);
  return {
    mode,
    forwardingUsPerRecord: (busy * 1000) / records,
    cpuUsPerRecord: (cpu.user + cpu.system) / records,
  };
}

/** Bytes as one char each, so binary bodies survive a JSON string. */
const latin1 = new TextDecoder("latin1");
const worker = new Worker(workerSource, { eval: true });
const workerDone = () =>
  new Promise<void>((resolve) => {
    worker.once("message", () => resolve());
    worker.postMessage("done");
  });

const results: Result[] = [];
for (let round = 0; round < 2; round++) {
  results.length = 0;
  results.push(
    await measure("encode here", async (batch) => {
      let out = "";
      for (const e of batch) out += recordJson(await buildHttpRecord(e, context)) + "\n";
      new TextEncoder().encode(out);
    }, () => Promise.resolve()),
  );
  results.push(await measure("clone to worker", (batch) => worker.postMessage(batch.map(raw)), workerDone));
  results.push(
    await measure("string to worker", (batch) => {
      worker.postMessage(
        JSON.stringify(batch.map((e) => ({ ...raw(e), responseBody: latin1.decode(e.response.bytes()) }))),
      );
    }, workerDone),
  );
}
await worker.terminate();

if (values.json) console.log(JSON.stringify(results, null, 2));
else {
  console.log(`${records} records of a 1 KiB GET, batches of ${BATCH}; second of two rounds`);
  console.log("| mode | forwarding thread µs/record | process CPU µs/record (all threads) |");
  console.log("| ---- | ---: | ---: |");
  for (const r of results) {
    console.log(`| ${r.mode} | ${r.forwardingUsPerRecord.toFixed(2)} | ${r.cpuUsPerRecord.toFixed(2)} |`);
  }
}
