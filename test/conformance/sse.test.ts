/**
 * Server-Sent Events through one tapline process per runtime: route `sse` to
 * a real node:http upstream. Streams must reach the client as the upstream
 * writes them, byte for byte, whatever the request's Accept header, and each
 * event must become an `sse_event` record.
 */
import assert from "node:assert/strict";
import { type IncomingHttpHeaders, request as httpRequest } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { SseEventRecord } from "../../src/shared/record.ts";
import { request } from "./harness/client.ts";
import { marker, proxySpec, RFC3339_RE, sleep, tearDown, tempDir, UUID_RE } from "./harness/fixture.ts";
import { asCapture, assertAllValid, bodyBytes, connectionRecords, readRecords, recordFor } from "./harness/records.ts";
import { runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import {
  SSE_SPLIT_BYTES,
  SSE_SPLIT_EVENTS,
  SSE_TIMED_CHUNKS,
  SSE_TIMED_GAP_MS,
  startWsUpstream,
  type WsUpstream,
} from "./harness/ws-upstream.ts";

const T = { timeout: 20_000 };
const WAIT_MS = 5_000;
const ROUTE = "sse";
/** Accept headers the stream must work with: the usual one, none, and anything. */
const ACCEPTS: Array<string | undefined> = ["text/event-stream", undefined, "*/*"];

/** One streamed response: every chunk with the time (performance.now()) it arrived. */
interface Streamed {
  status: number;
  headers: IncomingHttpHeaders;
  chunks: Array<{ at: number; data: Buffer }>;
  body: Buffer;
}

/** GET `url` and collect the chunks as they arrive; rejects after WAIT_MS. */
function stream(url: string, accept: string | undefined): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = accept === undefined ? {} : { accept };
    const req = httpRequest(url, { agent: false, headers }, (res) => {
      const chunks: Streamed["chunks"] = [];
      res.on("data", (data: Buffer) => chunks.push({ at: performance.now(), data }));
      res.on("error", reject);
      res.on("end", () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          chunks,
          body: Buffer.concat(chunks.map((c) => c.data)),
        });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`Stream ${url} did not end within ${WAIT_MS} ms`)), WAIT_MS);
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

/** When the client had received at least the first `n` bytes. */
function arrivalOf(streamed: Streamed, n: number): number {
  let total = 0;
  for (const c of streamed.chunks) {
    total += c.data.length;
    if (total >= n) return c.at;
  }
  throw new Error(`The client never received ${n} bytes (got ${total})`);
}

/** The sse_event records of one connection, in file order, once at least `count` are there. */
function eventsOf(file: string, connectionId: string, count: number): Promise<SseEventRecord[]> {
  return connectionRecords<SseEventRecord>(file, "sse_event", connectionId, count, WAIT_MS);
}

/** Line index (0-based) of each record id in the file. */
function lineOf(file: string): Map<string, number> {
  return new Map(readRecords(file).map((r, i) => [r.id, i]));
}

/** Sample values of `name` from Prometheus text, keyed by their sorted label set (`route=sse`). */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)`, "gm");
  for (const m of text.matchAll(re)) {
    const labels = (m[1] ?? "").split(",").filter((s) => s !== "").map((s) => s.replace(/"/g, "")).sort().join(",");
    out.set(labels, Number(m[2]));
  }
  return out;
}

const acceptName = (accept: string | undefined) => (accept === undefined ? "no Accept header" : `Accept: ${accept}`);

for (const runtime of runtimes) {
  describe(`${runtime}: Server-Sent Events`, { timeout: 120_000 }, () => {
    let up: WsUpstream;
    let tap: Tapline;
    let dir: string;
    let file: string;

    before(async () => {
      up = await startWsUpstream();
      dir = tempDir();
      file = join(dir, `${ROUTE}.jsonl`);
      tap = await startTapline(runtime, [
        "--listen-admin",
        "127.0.0.1:0",
        "--proxy",
        proxySpec({ name: ROUTE, upstream: up.url, log_jsonl: file }),
      ]);
    });

    after(() => tearDown(tap, [up], dir));

    for (const accept of ACCEPTS) {
      test(`${acceptName(accept)}: event 1 reaches the client before the upstream sends event 2`, T, async () => {
        const m = marker("timed");
        const url = tap.url(ROUTE, `/sse/timed?m=${m}`);
        // Watch the file while the stream is open: an event is a record as it passes, not at the end.
        // Only on the first variant, before any other "first" record exists.
        const watching = accept === ACCEPTS[0];
        let firstRecordWhileOpen: boolean | undefined;
        const watch = (async () => {
          if (!watching) return;
          const deadline = Date.now() + WAIT_MS;
          while (Date.now() < deadline) {
            const found = readRecords(file).map(asCapture).some((r) => r.type === "sse_event" && r.data === "first");
            const upstreamSent = up.sse.find((s) => s.url.includes(m))?.writeTimes.length ?? 0;
            if (found) {
              firstRecordWhileOpen = upstreamSent < 2;
              return;
            }
            await sleep(10);
          }
        })();
        const res = await stream(url, accept);
        await watch;
        assert.equal(res.status, 200);
        assert.match(String(res.headers["content-type"]), /^text\/event-stream/);
        assert.equal(res.body.toString("utf8"), SSE_TIMED_CHUNKS.join(""), "the client gets the exact bytes");
        const sent = up.sseStream(m);
        assert.equal(sent.headers["accept"], accept, "the Accept header reaches the upstream as sent");
        const gotFirst = arrivalOf(res, Buffer.byteLength(SSE_TIMED_CHUNKS[0]!));
        const sentSecond = sent.writeTimes[1]!;
        assert.ok(
          gotFirst < sentSecond,
          `event 1 arrived at ${gotFirst.toFixed(1)} ms, event 2 was sent at ${sentSecond.toFixed(1)} ms`,
        );
        if (watching) {
          assert.equal(firstRecordWhileOpen, true, "the first event's record was written before event 2 was sent");
        }

        const record = await recordFor(file, m, WAIT_MS);
        assert.equal(record.response?.status, 200);
        assert.equal(record.sse_events, 2);
        const events = await eventsOf(file, record.id, 2);
        assert.deepEqual(events.map((e) => [e.event, e.data, e.id_field]), [["tick", "first", "t1"], [
          "tick",
          "second",
          "t2",
        ]]);
        const gap = events[1]!.t_delta_ms - events[0]!.t_delta_ms;
        assert.ok(gap >= SSE_TIMED_GAP_MS - 100, `t_delta_ms grows by about ${SSE_TIMED_GAP_MS} ms (got ${gap})`);
      });
    }

    for (const accept of ACCEPTS) {
      test(`${acceptName(accept)}: events split mid-line arrive byte-identical and are parsed`, T, async () => {
        const m = marker("split");
        const res = await stream(tap.url(ROUTE, `/sse/split?m=${m}`), accept);
        assert.equal(res.status, 200);
        assert.ok(res.body.equals(SSE_SPLIT_BYTES), `client bytes: ${JSON.stringify(res.body.toString("latin1"))}`);
        assert.ok(res.chunks.length > 1, "the stream arrived in several chunks");

        const record = await recordFor(file, m, WAIT_MS);
        assert.equal(record.type, "http");
        assert.equal(record.route_name, ROUTE);
        assert.equal(record.response?.status, 200);
        assert.equal(record.sse_events, SSE_SPLIT_EVENTS.length, "sse_events counts the events");
        assert.equal(record.response?.body_size, SSE_SPLIT_BYTES.length);
        assert.ok(
          bodyBytes(record.response).equals(SSE_SPLIT_BYTES),
          `captured body: ${JSON.stringify(bodyBytes(record.response).toString("latin1"))}`,
        );

        const events = await eventsOf(file, record.id, SSE_SPLIT_EVENTS.length);
        assert.equal(events.length, SSE_SPLIT_EVENTS.length, "one record per event, no more");
        const ids = new Set<string>();
        for (const [i, e] of events.entries()) {
          const want = SSE_SPLIT_EVENTS[i]!;
          assert.equal(e.type, "sse_event");
          assert.equal(e.v, 1);
          assert.match(e.id, UUID_RE);
          ids.add(e.id);
          assert.equal(e.route_name, ROUTE);
          assert.equal(e.connection_id, record.id, "connection_id is the id of the http record");
          assert.match(e.timestamp, RFC3339_RE);
          assert.ok(Date.parse(e.timestamp) >= Date.parse(record.timestamp), "events pass after the request started");
          assert.equal(e.event, want.event, `event ${i}: event name`);
          assert.equal(e.data, want.data, `event ${i}: data`);
          assert.equal(e.id_field, want.id, `event ${i}: id_field`);
          assert.equal(e.retry, want.retry, `event ${i}: retry`);
          assert.notEqual(e.data_truncated, true);
          assert.equal(typeof e.t_delta_ms, "number");
          assert.ok(e.t_delta_ms >= 0);
          if (i > 0) {
            assert.ok(
              e.t_delta_ms > events[i - 1]!.t_delta_ms,
              `t_delta_ms increases: ${events.map((x) => x.t_delta_ms).join(", ")}`,
            );
          }
        }
        assert.equal(ids.size, events.length, "every event record has its own id");
        const lines = lineOf(file);
        for (const e of events) {
          assert.ok(lines.get(e.id)! < lines.get(record.id)!, "event records come before the http record");
        }
      });
    }

    test("admin metrics count SSE streams and events", T, async () => {
      const metrics = async () => {
        const res = await request(`http://127.0.0.1:${tap.adminPort()}/_metrics`, { timeoutMs: WAIT_MS });
        assert.equal(res.status, 200);
        return res.body.toString("utf8");
      };
      const value = (text: string, name: string) => samples(text, name).get(`route=${ROUTE}`);
      const before = await metrics();
      const eventsBefore = value(before, "tapline_sse_events_total");
      const streamsBefore = value(before, "tapline_sse_streams_total");
      assert.equal(typeof eventsBefore, "number", `tapline_sse_events_total{route="${ROUTE}"}:\n${before}`);
      assert.equal(value(before, "tapline_sse_streams_active"), 0, "no stream open");

      const m = marker("metrics");
      const res = await stream(tap.url(ROUTE, `/sse/split?m=${m}`), "text/event-stream");
      assert.equal(res.status, 200);
      await recordFor(file, m, WAIT_MS);
      const afterText = await metrics();
      assert.equal(value(afterText, "tapline_sse_events_total"), eventsBefore! + SSE_SPLIT_EVENTS.length);
      assert.equal(value(afterText, "tapline_sse_streams_total"), (streamsBefore ?? 0) + 1);
      assert.equal(value(afterText, "tapline_sse_streams_active"), 0);
    });

    test("every record validates against the schema", T, () => {
      const records = readRecords(file).map(asCapture);
      assert.ok(records.some((r) => r.type === "sse_event"), "the file has sse_event records");
      assert.ok(assertAllValid([file]) >= 20);
    });
  });
}
