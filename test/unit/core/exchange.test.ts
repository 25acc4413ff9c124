import assert from "node:assert/strict";
import { test } from "node:test";
import type { InboundRequest } from "../../../src/core/route-context.ts";
import { headerValue } from "../../../src/shared/raw-headers.ts";
import { MemorySink } from "../sinks/memory-sink.ts";
import { assertValidRecord, bytes, makeRoute } from "./fixture.ts";

const decoder = new TextDecoder();

function request(overrides: Partial<InboundRequest> = {}): InboundRequest {
  return {
    method: "GET",
    target: "/",
    headers: ["Host", "proxy.test"],
    clientIp: "127.0.0.1",
    clientPort: 40000,
    secure: false,
    ...overrides,
  };
}

test("a full exchange produces one schema-valid record with every field", async () => {
  const harness = makeRoute({ name: "api", upstream: "http://127.0.0.1:9000/base/" });
  const before = Date.now();
  const exchange = harness.route.begin(request({
    method: "POST",
    target: "/items?x=1",
    headers: [
      "Host",
      "proxy.test:8080",
      "Content-Type",
      "application/json",
      "X-Request-ID",
      "req-42",
      "Connection",
      "keep-alive",
      "accept",
      "a",
      "Accept",
      "b",
    ],
    clientIp: "::ffff:127.0.0.1",
    clientPort: 5555,
  }));
  assert.equal(exchange.upstreamTarget, "/base/items?x=1");
  assert.equal(headerValue(exchange.upstreamHeaders, "x-forwarded-for"), "127.0.0.1");
  assert.equal(headerValue(exchange.upstreamHeaders, "x-forwarded-proto"), "http");
  assert.equal(headerValue(exchange.upstreamHeaders, "x-forwarded-host"), "proxy.test:8080");
  assert.equal(headerValue(exchange.upstreamHeaders, "connection"), undefined);
  assert.equal(harness.routeMetrics.requestsActive, 1);
  assert.equal(harness.activity.active, 1);

  exchange.requestChunk(bytes('{"a":'));
  exchange.requestChunk(bytes("1}"));
  exchange.requestEnd();
  const head = exchange.responseHead(201, "Created", [
    "Content-Type",
    "text/plain",
    "Connection",
    "close",
    "X-Upstream",
    "u1",
  ]);
  assert.deepEqual(head, {
    status: 201,
    statusText: "Created",
    headers: ["Content-Type", "text/plain", "X-Upstream", "u1"],
  });
  exchange.responseChunk(bytes("hello "));
  exchange.responseChunk(bytes("world\n"));
  exchange.finish();

  const records = await harness.flushRecords();
  assert.equal(records.length, 1);
  const record = records[0]!;
  assertValidRecord(record);
  assert.equal(record.type, "http");
  assert.equal(record.v, 1);
  assert.match(record.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(record.id, exchange.capture!.id);
  assert.equal(record.route_name, "api");
  assert.equal(record.correlation_id, "req-42");
  assert.equal(record.client_ip, "127.0.0.1:5555");
  assert.equal(record.upstream, "http://127.0.0.1:9000/base");
  const started = Date.parse(record.timestamp);
  assert.ok(started >= before - 1 && started <= Date.now(), record.timestamp);
  assert.ok(record.ttfb_request_ms >= 0);
  assert.ok(record.ttfb_request_ms <= record.ttfb_response_ms);
  assert.ok(record.ttfb_response_ms <= record.duration_ms);
  assert.deepEqual(record.request, {
    method: "POST",
    url: "/items?x=1",
    headers: {
      Host: ["proxy.test:8080"],
      "Content-Type": ["application/json"],
      "X-Request-Id": ["req-42"],
      Connection: ["keep-alive"],
      Accept: ["a", "b"],
    },
    body: '{"a":1}',
    body_size: 7,
  });
  assert.deepEqual(record.response, {
    status: 201,
    status_text: "Created",
    headers: { "Content-Type": ["text/plain"], Connection: ["close"], "X-Upstream": ["u1"] },
    body: "hello world\n",
    body_size: 12,
  });
  assert.equal(record.error, undefined);
  assert.equal(record.disconnected, undefined);

  const m = harness.routeMetrics;
  assert.equal(m.requestsTotal, 1);
  assert.equal(m.requestsActive, 0);
  assert.equal(m.bytesReceived, 7);
  assert.equal(m.bytesSent, 12);
  assert.equal(m.upstreamLatency.count, 1);
  assert.equal(m.upstreamErrors, 0);
  assert.equal(m.recordsWritten, 1);
  assert.equal(harness.activity.active, 0);
  assert.equal(harness.budget.used, 0, "captured bytes go back to the budget once written");
});

test("an exchange over TLS from an IPv6 client forwards proto https and records [ip]:port", async () => {
  const harness = makeRoute();
  const exchange = harness.route.begin(request({ clientIp: "::1", clientPort: 443, secure: true }));
  assert.equal(headerValue(exchange.upstreamHeaders, "x-forwarded-proto"), "https");
  assert.equal(headerValue(exchange.upstreamHeaders, "x-forwarded-for"), "::1");
  exchange.requestEnd();
  exchange.responseHead(204, "No Content", []);
  exchange.finish();
  const [record] = await harness.flushRecords();
  assertValidRecord(record);
  assert.equal(record!.client_ip, "[::1]:443");
  assert.equal(record!.request.body, undefined, "an empty body has no body field");
  assert.equal(record!.request.body_size, 0);
  assert.equal(record!.response!.body_size, 0);
});

test("finish twice records the exchange and releases its accounting once", async () => {
  const harness = makeRoute();
  const exchange = harness.route.begin(request());
  exchange.requestEnd();
  exchange.responseHead(200, "OK", []);
  exchange.finish();
  exchange.finish();
  exchange.finish({ clientGone: true, error: new Error("late") });
  const records = await harness.flushRecords();
  assert.equal(records.length, 1);
  assert.equal(records[0]!.disconnected, undefined);
  assert.equal(records[0]!.error, undefined);
  const m = harness.routeMetrics;
  assert.equal(m.requestsActive, 0);
  assert.equal(m.clientDisconnects, 0);
  assert.equal(m.upstreamErrors, 0);
  assert.equal(harness.activity.active, 0);
});

test("badGateway answers 502, records the error and counts an upstream error", async () => {
  const harness = makeRoute({ upstream: "http://127.0.0.1:9" });
  const exchange = harness.route.begin(request({ target: "/down" }));
  exchange.requestEnd();
  const { head, body } = exchange.badGateway(new Error("connect ECONNREFUSED 127.0.0.1:9"));
  assert.equal(head.status, 502);
  assert.equal(head.statusText, "Bad Gateway");
  assert.equal(headerValue(head.headers, "content-length"), String(body.byteLength));
  assert.equal(headerValue(head.headers, "content-type"), "text/plain; charset=utf-8");
  const text = decoder.decode(body);
  assert.equal(text, `Bad Gateway: the upstream did not answer (request ${exchange.capture!.id})\n`);
  exchange.responseChunk(body);
  exchange.finish();

  const [record] = await harness.flushRecords();
  assertValidRecord(record);
  assert.equal(record!.error, "Upstream request failed: connect ECONNREFUSED 127.0.0.1:9");
  assert.equal(record!.response!.status, 502);
  assert.equal(record!.response!.status_text, "Bad Gateway");
  assert.equal(record!.response!.body, text);
  assert.equal(harness.routeMetrics.upstreamErrors, 1);
  assert.equal(harness.routeMetrics.bytesSent, body.byteLength);
});

test("badGateway never shows the upstream's credentials: generic body for the client, *** in the record", async () => {
  const harness = makeRoute({ upstream: "http://user:S3CRET-pw@127.0.0.1:9/base" });
  assert.equal(harness.route.upstreamText, "http://***@127.0.0.1:9/base");
  const exchange = harness.route.begin(request({ target: "/down", headers: ["X-Request-Id", "req-42"] }));
  exchange.requestEnd();
  const { body } = exchange.badGateway(new Error("fetch http://user:S3CRET-pw@127.0.0.1:9/base/down failed"));
  assert.equal(decoder.decode(body), "Bad Gateway: the upstream did not answer (request req-42)\n");
  exchange.responseChunk(body);
  exchange.finish();
  const [record] = await harness.flushRecords();
  assert.equal(record!.upstream, "http://***@127.0.0.1:9/base");
  assert.equal(record!.error, "Upstream request failed: fetch http://***:***@127.0.0.1:9/base/down failed");
  assert.ok(!JSON.stringify(record).includes("S3CRET"));
});

test("badGateway on an uncaptured exchange still counts the upstream error", () => {
  const harness = makeRoute({ excludePath: ["^/"] });
  const exchange = harness.route.begin(request());
  const { head } = exchange.badGateway(new AggregateError([new Error("a"), new Error("b")]));
  assert.equal(head.status, 502);
  exchange.finish();
  assert.equal(harness.routeMetrics.upstreamErrors, 1);
});

test("finish({clientGone}) marks the record disconnected and counts the disconnect", async () => {
  const harness = makeRoute();
  const exchange = harness.route.begin(request());
  exchange.requestEnd();
  exchange.responseHead(200, "OK", ["Content-Length", "100"]);
  exchange.responseChunk(bytes("partial"));
  exchange.finish({ clientGone: true });
  const [record] = await harness.flushRecords();
  assertValidRecord(record);
  assert.equal(record!.disconnected, true);
  assert.equal(record!.response!.body, "partial");
  assert.equal(harness.routeMetrics.clientDisconnects, 1);
  assert.equal(harness.routeMetrics.upstreamErrors, 0);
});

test("finish({error}) after the response started records the error as an upstream error", async () => {
  const harness = makeRoute();
  const exchange = harness.route.begin(request());
  exchange.requestEnd();
  exchange.responseHead(200, "OK", []);
  exchange.responseChunk(bytes("abc"));
  exchange.finish({ error: new Error("other side closed", { cause: new Error("ECONNRESET") }) });
  const [record] = await harness.flushRecords();
  assertValidRecord(record);
  assert.equal(record!.error, "other side closed: ECONNRESET");
  assert.equal(harness.routeMetrics.upstreamErrors, 1);
});

test("an error caused by the client leaving is not counted as an upstream error", async () => {
  const harness = makeRoute();
  const exchange = harness.route.begin(request());
  exchange.responseHead(200, "OK", []);
  exchange.finish({ clientGone: true, error: new Error("aborted") });
  const [record] = await harness.flushRecords();
  assert.equal(record!.disconnected, true);
  assert.equal(record!.error, "aborted");
  assert.equal(harness.routeMetrics.upstreamErrors, 0);
  assert.equal(harness.routeMetrics.clientDisconnects, 1);
});

test("an exchange that ends before any response head has no response in its record", async () => {
  const harness = makeRoute();
  const exchange = harness.route.begin(request({ method: "PUT" }));
  exchange.requestChunk(bytes("half"));
  exchange.finish({ clientGone: true });
  const [record] = await harness.flushRecords();
  assertValidRecord(record);
  assert.equal(record!.response, undefined);
  assert.equal(record!.request.body, "half");
  assert.equal(record!.ttfb_request_ms, record!.duration_ms, "an unfinished request body ends with the exchange");
  assert.equal(record!.ttfb_response_ms, record!.duration_ms);
  assert.equal(harness.routeMetrics.upstreamLatency.count, 0);
});

test("an exchange on an excluded path is counted but not captured", async () => {
  const harness = makeRoute({ excludePath: ["^/metrics"] });
  const exchange = harness.route.begin(request({ target: "/metrics?x" }));
  assert.equal(exchange.capture, undefined);
  exchange.requestChunk(bytes("12345"));
  exchange.requestEnd();
  exchange.responseHead(200, "OK", ["Connection", "close"]);
  exchange.responseChunk(bytes("123"));
  exchange.finish();
  assert.equal(harness.pipeline.depth, 0);
  assert.deepEqual(await harness.flushRecords(), []);
  const m = harness.routeMetrics;
  assert.equal(m.requestsTotal, 1);
  assert.equal(m.requestsActive, 0);
  assert.equal(m.bytesReceived, 5);
  assert.equal(m.bytesSent, 3);
  assert.equal(m.upstreamLatency.count, 1);
  assert.equal(m.recordsWritten, 0);
  assert.equal(harness.budget.used, 0);
  assert.equal(harness.activity.active, 0);
});

test("bodies over maxBodySize are cut in the record but counted in full", async () => {
  const harness = makeRoute({ maxBodySize: 4 });
  const exchange = harness.route.begin(request({ method: "POST" }));
  exchange.requestChunk(bytes("abcdef"));
  exchange.requestEnd();
  exchange.responseHead(200, "OK", []);
  exchange.responseChunk(bytes("xy"));
  exchange.responseChunk(bytes("z!?"));
  exchange.finish();
  const [record] = await harness.flushRecords();
  assertValidRecord(record);
  assert.equal(record!.request.body, "abcd");
  assert.equal(record!.request.body_size, 6);
  assert.equal(record!.request.body_truncated, true);
  assert.equal(record!.response!.body, "xyz!");
  assert.equal(record!.response!.body_size, 5);
  assert.equal(record!.response!.body_truncated, true);
  assert.equal(harness.routeMetrics.captureBudgetTruncations, 0, "maxBodySize is not the budget");
  assert.equal(harness.routeMetrics.bytesReceived, 6);
});

test("a capture cut by the memory budget is counted as a budget truncation", async () => {
  const harness = makeRoute({ budgetBytes: 3 });
  const exchange = harness.route.begin(request({ method: "POST" }));
  exchange.requestChunk(bytes("abcdef"));
  exchange.requestEnd();
  exchange.responseHead(200, "OK", []);
  exchange.finish();
  const [record] = await harness.flushRecords();
  assert.equal(record!.request.body, "abc");
  assert.equal(record!.request.body_truncated, true);
  assert.equal(harness.routeMetrics.captureBudgetTruncations, 1);
  assert.equal(harness.budget.used, 0);
});

test("an exchange is written to every sink of its route", async () => {
  const first = new MemorySink("first");
  const second = new MemorySink("second");
  const harness = makeRoute({ sinks: [first, second] });
  const exchange = harness.route.begin(request());
  exchange.responseHead(200, "OK", []);
  exchange.finish();
  await harness.pipeline.flush();
  assert.equal(first.records.length, 1);
  assert.equal(second.records.length, 1);
  assert.equal(first.records[0]!.id, second.records[0]!.id);
});
