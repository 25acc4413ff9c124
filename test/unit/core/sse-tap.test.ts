/**
 * SseTap driven the way the adapters drive it: through a real Route and
 * Exchange (responseHead with an event-stream content type, responseChunk per
 * network chunk, finish), writing into a MemorySink.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SseEventRecord } from "../../../src/shared/record.ts";
import type { RawHeaders } from "../../../src/shared/raw-headers.ts";
import type { InboundRequest } from "../../../src/core/route-context.ts";
import { isEventStream, SseTap } from "../../../src/core/sse-tap.ts";
import type { Exchange } from "../../../src/core/exchange.ts";
import { asHttp, assertValidRecord, bytes, makeRoute, type RouteHarness, type RouteOptions } from "./fixture.ts";

const EVENT_STREAM: RawHeaders = ["Content-Type", "text/event-stream", "Cache-Control", "no-cache"];

function request(target = "/events"): InboundRequest {
  return {
    method: "GET",
    target,
    headers: ["Host", "proxy.test", "Accept", "text/event-stream"],
    clientIp: "127.0.0.1",
    clientPort: 40000,
    secure: false,
  };
}

/** A route and an exchange whose event-stream response head has arrived. */
function openStream(options: RouteOptions = {}, headers: RawHeaders = EVENT_STREAM, target?: string) {
  const harness = makeRoute(options);
  const exchange = harness.route.begin(request(target));
  exchange.requestEnd();
  exchange.responseHead(200, "OK", headers);
  return { harness, exchange };
}

/** Sends each piece as one response chunk (strings as UTF-8). */
function send(exchange: Exchange, ...chunks: Array<string | Uint8Array>): void {
  for (const chunk of chunks) exchange.responseChunk(typeof chunk === "string" ? bytes(chunk) : chunk);
}

/** Flushes and returns the sse_event records written so far, each checked against the schema. */
async function sseRecords(harness: RouteHarness): Promise<SseEventRecord[]> {
  const all = await harness.flushAll();
  const events: SseEventRecord[] = [];
  for (const record of all) {
    assertValidRecord(record);
    if (record.type === "sse_event") events.push(record);
  }
  return events;
}

/** Flushes and returns the one http record written so far. */
async function httpRecord(harness: RouteHarness) {
  const http = (await harness.flushAll()).filter((r) => r.type === "http").map(asHttp);
  assert.equal(http.length, 1, "one http record");
  return http[0]!;
}

/** Events as [event, data] pairs, for compact assertions. */
const pairs = (events: SseEventRecord[]) => events.map((e) => [e.event, e.data]);

test("isEventStream: text/event-stream with or without parameters, not compressed", () => {
  assert.equal(isEventStream(["Content-Type", "text/event-stream"]), true);
  assert.equal(isEventStream(["content-type", "Text/Event-Stream; charset=utf-8"]), true);
  assert.equal(isEventStream(["Content-Type", " text/event-stream ;charset=utf-8"]), true);
  assert.equal(isEventStream(["Content-Type", "text/event-stream", "Content-Encoding", "identity"]), true);
  assert.equal(isEventStream(["Content-Type", "text/event-stream", "Content-Encoding", "gzip"]), false);
  assert.equal(isEventStream(["Content-Type", "text/event-streams"]), false);
  assert.equal(isEventStream(["Content-Type", "application/json"]), false);
  assert.equal(isEventStream([]), false);
});

test("each event is recorded while the stream is still open, before finish", async () => {
  const { harness, exchange } = openStream();
  assert.equal(harness.routeMetrics.sseStreamsTotal, 1);
  assert.equal(harness.routeMetrics.sseStreamsActive, 1);
  send(exchange, "data: first\n\n");
  assert.equal(harness.pipeline.depth, 1, "submitted as soon as the event passed");
  const early = await sseRecords(harness);
  assert.deepEqual(pairs(early), [["message", "first"]]);
  assert.equal(early[0]!.connection_id, exchange.capture!.id);
  assert.equal(early[0]!.route_name, "api");
  assert.equal((await harness.flushAll()).filter((r) => r.type === "http").length, 0, "no http record yet");

  send(exchange, "event: second\ndata: 2\n\n");
  assert.deepEqual(pairs(await sseRecords(harness)), [["message", "first"], ["second", "2"]]);
  assert.equal(harness.routeMetrics.sseEvents, 2);
  exchange.finish();
  assert.equal(harness.routeMetrics.sseStreamsActive, 0);
  assert.equal(harness.routeMetrics.sseStreamsTotal, 1);
});

test("the http record comes at the end with the sse_events count and the stream as its body", async () => {
  const { harness, exchange } = openStream();
  const stream = "data: a\n\ndata: b\n\n: comment\n\ndata: c\n\n";
  send(exchange, stream);
  exchange.finish();
  const all = await harness.flushAll();
  for (const record of all) assertValidRecord(record);
  const http = all.filter((r) => r.type === "http").map(asHttp);
  assert.equal(http.length, 1);
  assert.equal(http[0]!.sse_events, 3);
  assert.equal(http[0]!.response?.body, stream);
  assert.equal(http[0]!.id, exchange.capture!.id);
  const events = all.filter((r) => r.type === "sse_event");
  assert.equal(events.length, 3);
  assert.ok(all.indexOf(http[0]!) > all.indexOf(events.at(-1)!), "the http record is written after its events");
});

test("a response that is not an event stream has no sse_events and counts no stream", async () => {
  const { harness, exchange } = openStream({}, ["Content-Type", "text/plain"]);
  send(exchange, "data: looks like an event\n\n");
  exchange.finish();
  const [record] = await harness.flushRecords();
  assert.equal(record!.sse_events, undefined);
  assert.equal(harness.routeMetrics.sseStreamsTotal, 0);
  assert.equal(harness.routeMetrics.sseEvents, 0);
});

test("a compressed event stream is not parsed (its bytes are still the body)", async () => {
  const { harness, exchange } = openStream({}, ["Content-Type", "text/event-stream", "Content-Encoding", "gzip"]);
  assert.equal(harness.routeMetrics.sseStreamsTotal, 0);
  exchange.finish();
  const [record] = await harness.flushRecords();
  assert.equal(record!.sse_events, undefined);
});

test("an empty event stream records sse_events 0", async () => {
  const { harness, exchange } = openStream();
  exchange.finish();
  const [record] = await harness.flushRecords();
  assert.equal(record!.sse_events, 0);
});

test("an event split mid-line across chunks is recorded once, whole", async () => {
  const { harness, exchange } = openStream();
  send(exchange, "da", "ta: hel", "lo wor", "ld\n");
  assert.equal(harness.pipeline.depth, 0, "not complete before the blank line");
  send(exchange, "\n");
  assert.deepEqual(pairs(await sseRecords(harness)), [["message", "hello world"]]);
  send(exchange, "event: up", "date\nda", "ta: 2\n", "\ndata: 3", "\n\n");
  assert.deepEqual(pairs(await sseRecords(harness)), [["message", "hello world"], ["update", "2"], ["message", "3"]]);
});

test("a multi-byte UTF-8 character split across chunks is decoded whole", async () => {
  const { harness, exchange } = openStream();
  const all = bytes("data: h€llo 👋\n\n");
  // "€" is E2 82 AC: cut after its first byte; "👋" is F0 9F 91 8B: cut in the middle.
  const euro = all.indexOf(0xe2);
  const wave = all.indexOf(0xf0);
  send(exchange, all.subarray(0, euro + 1), all.subarray(euro + 1, wave + 2), all.subarray(wave + 2));
  const [event] = await sseRecords(harness);
  assert.equal(event?.data, "h€llo 👋");
});

test("CRLF line endings, also when CR and LF arrive in different chunks", async () => {
  const { harness, exchange } = openStream();
  send(exchange, "event: a\r\ndata: 1\r\n\r\n", "data: 2\r", "\ndata: 3\r\n\r\n");
  assert.deepEqual(pairs(await sseRecords(harness)), [["a", "1"], ["message", "2\n3"]]);
  // Every line ending split on its own: "data: 4\r\n\r\n" and "data: 5\r\n\n".
  send(exchange, "data: 4\r", "\n", "\r", "\n", "data: 5\r", "\n", "\n");
  assert.deepEqual(pairs(await sseRecords(harness)).slice(2), [["message", "4"], ["message", "5"]]);
  exchange.finish();
  assert.equal((await httpRecord(harness)).sse_events, 4);
});

test("CR-only line endings", async () => {
  const { harness, exchange } = openStream();
  send(exchange, "event: a\rdata: 1\r\rdata: 2\rdata: 3\r\r", ": keep-alive\r");
  assert.deepEqual(pairs(await sseRecords(harness)), [["a", "1"], ["message", "2\n3"]]);
});

test("an event ended by a CR at the end of a chunk is recorded before the next chunk arrives", async () => {
  // A CR ends a line (WHATWG HTML §9.2.6), so "data: x\r\r" is a complete event;
  // a browser dispatches it at once, without waiting to see whether an LF follows.
  const { harness, exchange } = openStream();
  send(exchange, "data: x\r\r");
  assert.deepEqual(pairs(await sseRecords(harness)), [["message", "x"]]);
});

test("a CR-only stream's last event, complete when the stream ends, is recorded and counted", async () => {
  const { harness, exchange } = openStream();
  send(exchange, "data: 1\r\rdata: 2\r\r");
  exchange.finish();
  assert.deepEqual(pairs(await sseRecords(harness)), [["message", "1"], ["message", "2"]]);
  assert.equal((await httpRecord(harness)).sse_events, 2);
});

test("comments and comment-only blocks are not events", async () => {
  const { harness, exchange } = openStream();
  send(exchange, ": hello\n\n:\n\n", "data: a\n: inside\ndata: b\n\n");
  assert.deepEqual(pairs(await sseRecords(harness)), [["message", "a\nb"]]);
  assert.equal(harness.routeMetrics.sseEvents, 1);
});

test("a leading BOM is skipped, also when split across chunks", async () => {
  for (const split of [false, true]) {
    const { harness, exchange } = openStream();
    const stream = new Uint8Array([0xef, 0xbb, 0xbf, ...bytes("event: first\ndata: x\n\n")]);
    if (split) send(exchange, stream.subarray(0, 2), stream.subarray(2));
    else send(exchange, stream);
    assert.deepEqual(pairs(await sseRecords(harness)), [["first", "x"]], `split=${split}`);
  }
});

test("id and retry fields; a retry in its own block applies to the next event only", async () => {
  const { harness, exchange } = openStream();
  send(
    exchange,
    "id: 7\nretry: 1500\ndata: with both\n\n",
    "data: plain\n\n",
    "retry: 5000\n\n",
    "id: 8\ndata: after retry\n\n",
    "data: later\n\n",
    "retry: soon\ndata: invalid retry\n\n",
    "id\ndata: empty id\n\n",
  );
  const events = await sseRecords(harness);
  assert.deepEqual(
    events.map((e) => [e.data, e.id_field, e.retry]),
    [
      ["with both", "7", 1500],
      ["plain", undefined, undefined],
      ["after retry", "8", 5000],
      ["later", undefined, undefined],
      ["invalid retry", undefined, undefined],
      ["empty id", "", undefined],
    ],
  );
  assert.equal(harness.routeMetrics.sseEvents, 6, "the retry-only block is not an event");
});

test("multi-line data, field value spacing and the default event name", async () => {
  const { harness, exchange } = openStream();
  send(
    exchange,
    "data: line 1\ndata: line 2\ndata\ndata:  two spaces\n\n",
    "event:\ndata: empty event name\n\n",
    "event:custom\ndata:no space\n\n",
    "event: only a name\n\n",
    'data: {"json": true}\n\n',
  );
  const events = await sseRecords(harness);
  assert.deepEqual(pairs(events), [
    ["message", "line 1\nline 2\n\n two spaces"],
    ["message", "empty event name"],
    ["custom", "no space"],
    ["message", '{"json": true}'],
  ]);
});

test("an unterminated last event is not recorded nor counted", async () => {
  const { harness, exchange } = openStream();
  send(exchange, "data: done\n\ndata: never finished\n");
  exchange.finish({ clientGone: true });
  const all = await harness.flushAll();
  const events = all.filter((r) => r.type === "sse_event");
  assert.equal(events.length, 1);
  const http = all.filter((r) => r.type === "http").map(asHttp);
  assert.equal(http[0]?.sse_events, 1);
  assert.equal(http[0]?.disconnected, true);
  assert.equal(harness.routeMetrics.sseEvents, 1);
  assert.equal(harness.routeMetrics.sseStreamsActive, 0);
});

test("t_delta_ms grows from the response head; timestamps are in order", async () => {
  const { harness, exchange } = openStream();
  send(exchange, "data: 1\n\n");
  await new Promise((resolve) => setTimeout(resolve, 25));
  send(exchange, "data: 2\n\n");
  const [first, second] = await sseRecords(harness);
  assert.ok(first!.t_delta_ms >= 0 && first!.t_delta_ms < 25, String(first!.t_delta_ms));
  assert.ok(second!.t_delta_ms >= first!.t_delta_ms + 20, `${first!.t_delta_ms} then ${second!.t_delta_ms}`);
  assert.ok(Date.parse(second!.timestamp) >= Date.parse(first!.timestamp));
  assert.notEqual(first!.id, second!.id);
});

test("event data is cut at maxBodySize and flagged; the relayed stream is untouched", async () => {
  const { harness, exchange } = openStream({ maxBodySize: 5 });
  send(exchange, "data: 0123456789\n\n");
  const [event] = await sseRecords(harness);
  assert.equal(event!.data, "01234");
  assert.equal(event!.data_truncated, true);
});

test("a used-up memory budget cuts event data and counts a budget truncation", async () => {
  const { harness, exchange } = openStream({ budgetBytes: 8, maxBodySize: 1024 });
  // The response body capture holds the stream's bytes in the same budget.
  send(exchange, "data: 0123456789\n\n");
  const [event] = await sseRecords(harness);
  assert.equal(event!.data_truncated, true);
  assert.ok(harness.routeMetrics.captureBudgetTruncations >= 1);
  exchange.finish();
  await harness.flushAll();
  assert.equal(harness.budget.used, 0, "every reservation is given back once written");
});

test("a stream that is not captured still counts events and streams but writes nothing", async () => {
  const { harness, exchange } = openStream({ excludePath: ["^/events"] });
  assert.equal(exchange.capture, undefined);
  send(exchange, "data: a\n\ndata: b\n\n");
  assert.equal(harness.routeMetrics.sseEvents, 2);
  assert.equal(harness.routeMetrics.sseStreamsActive, 1);
  exchange.finish();
  assert.equal(harness.routeMetrics.sseStreamsActive, 0);
  assert.deepEqual(await harness.flushAll(), []);
});

test("SseTap used directly: end is idempotent and counts one stream", async () => {
  const harness = makeRoute();
  const tap = new SseTap(harness.route, undefined);
  tap.chunk(bytes("data: x\n\n"));
  assert.equal(tap.events, 1);
  tap.end();
  tap.end();
  assert.equal(harness.routeMetrics.sseStreamsActive, 0);
  assert.equal(harness.routeMetrics.sseStreamsTotal, 1);
  assert.deepEqual(await harness.flushAll(), []);
});

test("concurrent streams on one route keep their events apart", async () => {
  const harness = makeRoute();
  const a = harness.route.begin(request("/a"));
  const b = harness.route.begin(request("/b"));
  a.responseHead(200, "OK", EVENT_STREAM);
  b.responseHead(200, "OK", EVENT_STREAM);
  assert.equal(harness.routeMetrics.sseStreamsActive, 2);
  send(a, "data: a");
  send(b, "data: b1\n\n");
  send(a, "1\n\n");
  const events = await sseRecords(harness);
  assert.deepEqual(
    events.map((e) => [e.connection_id, e.data]),
    [[b.capture!.id, "b1"], [a.capture!.id, "a1"]],
  );
  a.finish();
  assert.equal(harness.routeMetrics.sseStreamsActive, 1);
  b.finish();
  assert.equal(harness.routeMetrics.sseStreamsActive, 0);
  assert.equal(harness.routeMetrics.sseStreamsTotal, 2);
});
