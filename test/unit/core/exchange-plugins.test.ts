import assert from "node:assert/strict";
import { test } from "node:test";
import type { CaptureRecord, HttpRecord } from "../../../src/shared/record.ts";
import { headerValue } from "../../../src/shared/raw-headers.ts";
import type { InboundRequest } from "../../../src/core/route-context.ts";
import { PluginChain } from "../../../src/plugins/chain.ts";
import type { PluginInstance } from "../../../src/plugins/instance.ts";
import type { HookName } from "../../../src/core/hooks.ts";
import { type InlineOptions, inlinePlugin, pluginSource } from "../plugins/inline-fixture.ts";
import { asHttp, assertValidRecord, bytes, makeRoute, type RouteHarness } from "./fixture.ts";

const decoder = new TextDecoder();
const text = (data: Uint8Array | undefined) => data === undefined ? undefined : decoder.decode(data);

function request(overrides: Partial<InboundRequest> = {}): InboundRequest {
  return {
    method: "GET",
    target: "/items?x=1",
    headers: ["Host", "proxy.test"],
    clientIp: "127.0.0.1",
    clientPort: 40000,
    secure: false,
    ...overrides,
  };
}

/** A route whose chain holds one inline plugin per `[hooks, body, options]`. */
async function routeWith(
  plugins: Array<[HookName[], string, InlineOptions?]>,
): Promise<RouteHarness & { chain: PluginChain; dispose(): void }> {
  const harness = makeRoute({ name: "api", upstream: "http://127.0.0.1:9000/base/" });
  const instances: PluginInstance[] = [];
  for (const [index, [hooks, body, options]] of plugins.entries()) {
    instances.push(await inlinePlugin(`p${index}`, pluginSource({ name: `p${index}`, hooks }, body), options));
  }
  const chain = new PluginChain("api", instances);
  harness.route.plugins = chain;
  return { ...harness, chain, dispose: () => instances.forEach((p) => p.dispose()) };
}

async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part;
}

async function collect(body: Uint8Array | AsyncIterable<Uint8Array>): Promise<string> {
  if (body instanceof Uint8Array) return decoder.decode(body);
  let out = "";
  for await (const chunk of body) out += decoder.decode(chunk, { stream: true });
  return out + decoder.decode();
}

async function onlyHttp(harness: RouteHarness): Promise<HttpRecord> {
  const records = await harness.flushAll();
  const http = records.filter((r: CaptureRecord) => r.type === "http");
  assert.equal(http.length, 1, JSON.stringify(records));
  const record = asHttp(http[0]!);
  assertValidRecord(record);
  return record;
}

test("a request patch changes the upstream method, target and headers, and the capture", async () => {
  const h = await routeWith([[
    ["onRequest"],
    `export function onRequest(req) {
    return { method: "PUT", url: "/new?q=1", headers: { "x-added": "1", "x-remove": null, "x-id": req.id } };
  }`,
  ]]);
  try {
    const exchange = h.route.begin(request({ headers: ["Host", "proxy.test", "X-Remove", "secret"] }));
    assert.equal(exchange.upstreamMethod, "PUT");
    assert.equal(exchange.upstreamTarget, "/base/new?q=1");
    assert.equal(headerValue(exchange.upstreamHeaders, "x-added"), "1");
    assert.equal(headerValue(exchange.upstreamHeaders, "x-remove"), undefined);
    assert.equal(exchange.direct, undefined);
    exchange.requestEnd();
    exchange.responseHead(200, "OK", ["Content-Length", "0"]);
    exchange.finish();
    const record = await onlyHttp(h);
    assert.equal(record.request.method, "PUT");
    assert.equal(record.request.url, "/new?q=1");
    assert.deepEqual(record.request.headers["X-Added"], ["1"]);
    assert.equal(record.request.headers["X-Remove"], undefined);
    assert.deepEqual(record.request.headers["X-Id"], [record.id], "the plugin saw the record's id");
  } finally {
    h.dispose();
  }
});

test("capture:false from onRequest leaves the exchange uncaptured", async () => {
  const h = await routeWith([[["onRequest"], "export function onRequest() { return { capture: false }; }"]]);
  try {
    const exchange = h.route.begin(request());
    assert.equal(exchange.capture, undefined);
    exchange.responseHead(204, "No Content", []);
    exchange.finish();
    assert.deepEqual(await h.flushAll(), []);
  } finally {
    h.dispose();
  }
});

test("a direct reply is sent with its length and captured", async () => {
  const h = await routeWith([[
    ["onRequest"],
    `export function onRequest() {
    return { respond: { status: 403, headers: { "x-why": ["a", "b"] }, body: "denied \u00e9" } };
  }`,
  ]]);
  try {
    const exchange = h.route.begin(request());
    assert.ok(exchange.direct);
    assert.equal(exchange.holdsRequestBody, false);
    const reply = exchange.sendDirect();
    assert.equal(reply.head.status, 403);
    assert.deepEqual(reply.head.headers, ["x-why", "a", "x-why", "b", "content-length", "9"]);
    assert.equal(text(reply.body), "denied \u00e9");
    exchange.finish();
    const record = await onlyHttp(h);
    assert.equal(record.response?.status, 403);
    assert.equal(record.response?.body, "denied \u00e9");
    assert.deepEqual(record.response?.headers["X-Why"], ["a", "b"]);
    assert.equal(h.routeMetrics.bytesSent, 9);
  } finally {
    h.dispose();
  }
});

test("onRequestBody changes the body and fixes Content-Length", async () => {
  const h = await routeWith([[
    ["onRequestBody"],
    "export function onRequestBody(body, req) { return body.toUpperCase() + ' ' + req.method; }",
  ]]);
  try {
    for (const framing of [["Content-Length", "11"], ["Transfer-Encoding", "chunked"]]) {
      const exchange = h.route.begin(request({
        method: "POST",
        headers: ["Host", "proxy.test", "Content-Type", "text/plain; charset=utf-8", ...framing],
      }));
      assert.equal(exchange.holdsRequestBody, true, framing[0]);
      const body = await exchange.hookRequestBody(chunks(bytes("hello "), bytes("w\u00f6rld")));
      assert.ok(body instanceof Uint8Array);
      assert.equal(text(body), "HELLO W\u00d6RLD POST");
      assert.equal(headerValue(exchange.upstreamHeaders, "content-length"), String(body.byteLength));
      assert.equal(headerValue(exchange.upstreamHeaders, "transfer-encoding"), undefined);
      exchange.responseHead(204, "No Content", []);
      exchange.finish();
    }
    const records = (await h.flushAll()).map(asHttp);
    assert.deepEqual(records.map((r) => r.request.body), ["HELLO W\u00d6RLD POST", "HELLO W\u00d6RLD POST"]);
  } finally {
    h.dispose();
  }
});

test("a request body over the limit is streamed unchanged and counted as skipped", async () => {
  const h = await routeWith([[["onRequestBody"], "export function onRequestBody() { return 'changed'; }", {
    limits: { body: 8 },
  }]]);
  try {
    const sized = h.route.begin(
      request({ method: "POST", headers: ["Content-Type", "text/plain", "Content-Length", "20"] }),
    );
    assert.equal(sized.holdsRequestBody, false, "a declared length over the limit is not held");
    sized.finish();
    const exchange = h.route.begin(
      request({ method: "POST", headers: ["Content-Type", "text/plain", "Transfer-Encoding", "chunked"] }),
    );
    assert.equal(exchange.holdsRequestBody, true);
    const body = await exchange.hookRequestBody(chunks(bytes("12345"), bytes("67890"), bytes("abcde")));
    assert.ok(!(body instanceof Uint8Array) && body !== undefined);
    assert.equal(await collect(body), "1234567890abcde");
    const plugin = h.chain.plugins[0]!;
    assert.equal(plugin.metrics.bodiesSkipped, 1);
    assert.equal(plugin.metrics.calls.onRequestBody, undefined);
    exchange.responseHead(204, "No Content", []);
    exchange.finish();
    const records = (await h.flushAll()).map(asHttp);
    assert.equal(records[1]?.request.body, "1234567890abcde");
  } finally {
    h.dispose();
  }
});

test("a body that is not UTF-8 skips the body hooks", async () => {
  const h = await routeWith([[["onRequestBody"], "export function onRequestBody() { return 'changed'; }"]]);
  try {
    const exchange = h.route.begin(
      request({ method: "POST", headers: ["Content-Type", "text/plain", "Content-Length", "3"] }),
    );
    const raw = new Uint8Array([0x61, 0xff, 0xfe]);
    const body = await exchange.hookRequestBody(chunks(raw));
    assert.deepEqual(body, raw);
    assert.equal(headerValue(exchange.upstreamHeaders, "content-length"), "3");
    const plugin = h.chain.plugins[0]!;
    assert.equal(plugin.metrics.bodiesSkipped, 1);
    assert.equal(plugin.metrics.calls.onRequestBody, undefined);
    exchange.finish();
  } finally {
    h.dispose();
  }
});

test("a closed failure on onRequestBody answers 502 directly", async () => {
  const h = await routeWith([[["onRequestBody"], "export function onRequestBody() { throw new Error('x'); }", {
    fail: "closed",
  }]]);
  try {
    const exchange = h.route.begin(
      request({ method: "POST", headers: ["Content-Type", "text/plain", "Content-Length", "2"] }),
    );
    assert.equal(await exchange.hookRequestBody(chunks(bytes("hi"))), undefined);
    const reply = exchange.sendDirect();
    assert.equal(reply.head.status, 502);
    assert.equal(text(reply.body), "Bad Gateway: plugin p0 failed\n");
    exchange.finish();
    const record = await onlyHttp(h);
    assert.equal(record.response?.status, 502);
    assert.equal(record.error, "Plugin p0 failed on onRequestBody");
  } finally {
    h.dispose();
  }
});

test("onResponse patches the head the client gets and the capture", async () => {
  const h = await routeWith([[
    ["onResponse"],
    `export function onResponse(res, req) {
    return { status: 201, status_text: "Made", headers: { "x-r": req.path, server: null } };
  }`,
  ]]);
  try {
    const exchange = h.route.begin(request());
    const head = exchange.responseHead(200, "OK", ["Server", "s", "Content-Type", "text/plain", "Content-Length", "2"]);
    assert.equal(head.status, 201);
    assert.equal(head.statusText, "Made");
    assert.deepEqual(head.headers, ["Content-Type", "text/plain", "Content-Length", "2", "x-r", "/items"]);
    assert.equal(exchange.holdsResponseBody, false);
    assert.equal(text(exchange.responseChunk(bytes("ok"))), "ok");
    assert.equal(exchange.responseEnd(), undefined);
    exchange.finish();
    const record = await onlyHttp(h);
    assert.equal(record.response?.status, 201);
    assert.equal(record.response?.status_text, "Made");
    assert.deepEqual(record.response?.headers["X-R"], ["/items"]);
    assert.equal(record.response?.headers.Server, undefined);
  } finally {
    h.dispose();
  }
});

test("a held response body is changed with its Content-Length", async () => {
  const h = await routeWith([[
    ["onResponseBody"],
    "export function onResponseBody(body, res, req) { return body.replace('a', 'AAA') + res.status + req.method; }",
  ]]);
  try {
    const exchange = h.route.begin(request());
    const head = exchange.responseHead(200, "OK", ["Content-Type", "application/json", "Content-Length", "3"]);
    assert.equal(exchange.holdsResponseBody, true);
    assert.equal(exchange.holdLimit, 1024 * 1024);
    assert.equal(headerValue(head.headers, "content-length"), "3");
    const reply = exchange.releaseHeldResponse(bytes("abc"));
    assert.equal(exchange.holdsResponseBody, false);
    assert.equal(text(reply.body), "AAAbc200GET");
    assert.equal(reply.head.status, 200);
    assert.equal(headerValue(reply.head.headers, "content-length"), "11");
    exchange.finish();
    const record = await onlyHttp(h);
    assert.equal(record.response?.body, "AAAbc200GET");
    assert.deepEqual(record.response?.headers["Content-Length"], ["11"]);
    assert.equal(h.routeMetrics.bytesSent, 11);
  } finally {
    h.dispose();
  }
});

test("responses the body hooks do not want are not held", async () => {
  const h = await routeWith([[["onResponseBody"], "export function onResponseBody() { return 'x'; }"]]);
  try {
    const heads: Array<[number, string[], string?]> = [
      [200, ["Content-Type", "image/png", "Content-Length", "3"]],
      [200, ["Content-Type", "text/plain", "Content-Encoding", "gzip", "Content-Length", "3"]],
      [204, ["Content-Type", "text/plain"]],
      [200, ["Content-Type", "text/plain", "Content-Length", "0"]],
      [200, ["Content-Type", "text/plain", "Content-Length", String(2 * 1024 * 1024)]],
    ];
    for (const [status, headers] of heads) {
      const exchange = h.route.begin(request());
      exchange.responseHead(status, "", headers);
      assert.equal(exchange.holdsResponseBody, false, headers.join(" "));
      exchange.finish();
    }
    const exchange = h.route.begin(request({ method: "HEAD" }));
    exchange.responseHead(200, "OK", ["Content-Type", "text/plain", "Content-Length", "3"]);
    assert.equal(exchange.holdsResponseBody, false, "HEAD");
    exchange.finish();
  } finally {
    h.dispose();
  }
});

test("abandoning a hold returns the held head and counts the skip", async () => {
  const h = await routeWith([[["onResponseBody"], "export function onResponseBody() { return 'x'; }"]]);
  try {
    const exchange = h.route.begin(request());
    const head = exchange.responseHead(200, "OK", ["Content-Type", "text/plain", "Transfer-Encoding", "chunked"]);
    assert.equal(exchange.holdsResponseBody, true);
    assert.deepEqual(exchange.abandonHold(), head);
    assert.equal(exchange.holdsResponseBody, false);
    assert.equal(h.chain.plugins[0]!.metrics.bodiesSkipped, 1);
    assert.equal(text(exchange.responseChunk(bytes("raw"))), "raw");
    exchange.finish();
  } finally {
    h.dispose();
  }
});

test("a closed failure on onResponse sends a 502 instead of the upstream's body", async () => {
  const h = await routeWith([[["onResponse"], "export function onResponse() { throw new Error('x'); }", {
    fail: "closed",
  }]]);
  try {
    const exchange = h.route.begin(request());
    const head = exchange.responseHead(200, "OK", ["Content-Type", "text/plain", "Content-Length", "6"]);
    assert.equal(head.status, 502);
    const body = "Bad Gateway: plugin p0 failed\n";
    assert.equal(headerValue(head.headers, "content-length"), String(bytes(body).byteLength));
    assert.equal(exchange.responseChunk(bytes("secret")), undefined);
    assert.equal(text(exchange.responseEnd()), body);
    assert.equal(exchange.responseEnd(), undefined);
    exchange.finish();
    const record = await onlyHttp(h);
    assert.equal(record.response?.status, 502);
    assert.equal(record.response?.body, body);
    assert.equal(record.error, "Plugin p0 failed on onResponse");
    assert.equal(h.chain.plugins[0]!.metrics.requestsRefused, 1);
  } finally {
    h.dispose();
  }
});

test("a closed failure on onResponseBody replaces the held response with a 502", async () => {
  const h = await routeWith([[["onResponseBody"], "export function onResponseBody() { return 7; }", {
    fail: "closed",
  }]]);
  try {
    const exchange = h.route.begin(request());
    exchange.responseHead(200, "OK", ["Content-Type", "text/plain", "Content-Length", "6"]);
    const reply = exchange.releaseHeldResponse(bytes("secret"));
    assert.equal(reply.head.status, 502);
    assert.equal(text(reply.body), "Bad Gateway: plugin p0 failed\n");
    assert.equal(exchange.direct, undefined);
    exchange.finish();
    const record = await onlyHttp(h);
    assert.equal(record.response?.status, 502);
    assert.equal(record.response?.body, "Bad Gateway: plugin p0 failed\n");
    assert.equal(record.error, "Plugin p0 failed on onResponseBody");
  } finally {
    h.dispose();
  }
});

test("onSseEvent rewrites an event stream through responseChunk and responseEnd", async () => {
  const h = await routeWith([[
    ["onSseEvent"],
    `export function onSseEvent(event, req) {
    if (event.data === "drop") return null;
    return { ...event, data: event.data.toUpperCase() + req.path };
  }`,
  ]]);
  try {
    const exchange = h.route.begin(request());
    const head = exchange.responseHead(200, "OK", ["Content-Type", "text/event-stream", "Content-Length", "100"]);
    assert.equal(headerValue(head.headers, "content-length"), undefined, "rewritten events change the length");
    assert.equal(exchange.responseChunk(bytes("data: a")), undefined);
    assert.equal(text(exchange.responseChunk(bytes("bc\r\n\r\ndata: drop\n\ndata: x"))), "data: ABC/items\n\n");
    assert.equal(text(exchange.responseEnd()), "data: x", "a partial event at the end goes out raw");
    exchange.finish();
    const records = await h.flushAll();
    const http = asHttp(records.find((r) => r.type === "http")!);
    assert.equal(http.response?.body, "data: ABC/items\n\ndata: x");
    const events = records.filter((r) => r.type === "sse_event");
    assert.deepEqual(events.map((e) => e.type === "sse_event" ? e.data : undefined), ["ABC/items"]);
    for (const record of records) assertValidRecord(record);
  } finally {
    h.dispose();
  }
});

test("onCapture changes the record the sinks get", async () => {
  const h = await routeWith([[
    ["onCapture"],
    `export function onCapture(record) {
    if (record.type !== "http") return undefined;
    record.request.url = "/hidden";
    return record;
  }`,
  ]]);
  try {
    const exchange = h.route.begin(request());
    exchange.responseHead(204, "No Content", []);
    exchange.finish();
    const record = await onlyHttp(h);
    assert.equal(record.request.url, "/hidden");
    assert.equal(h.chain.plugins[0]!.metrics.calls.onCapture, 1);
  } finally {
    h.dispose();
  }
});
