import assert from "node:assert/strict";
import { test } from "node:test";
import { mergeRecord, Reads } from "../../../src/plugins/reads.ts";
import { PluginChain } from "../../../src/plugins/chain.ts";
import type { HttpRecord } from "../../../src/shared/record.ts";
import type { HookContext, RequestView } from "../../../src/core/hooks.ts";
import { inlinePlugin, pluginSource } from "./inline-fixture.ts";

const CONTEXT: HookContext = { routeName: "api" };

const VIEW: RequestView = {
  id: "11111111-2222-4333-8444-555555555555",
  route: "api",
  method: "POST",
  url: "/items?secret=1",
  path: "/items",
  query: "secret=1",
  headers: { host: "proxy.test", authorization: "Bearer abcdefgh" },
  client_ip: "127.0.0.1",
};

function record(body = "hello"): HttpRecord {
  return {
    type: "http",
    v: 1,
    id: VIEW.id,
    route_name: "api",
    timestamp: "2026-12-02T10:00:00.000Z",
    duration_ms: 1.5,
    ttfb_request_ms: 0.1,
    ttfb_response_ms: 1,
    client_ip: "127.0.0.1:40000",
    upstream: "http://127.0.0.1:9000",
    request: {
      method: "POST",
      url: "/items",
      headers: { Authorization: ["Bearer abcdefgh"] },
      body: "in",
      body_size: 2,
    },
    response: { status: 200, status_text: "OK", headers: { "Content-Type": ["text/plain"] }, body, body_size: 5 },
  };
}

test("reads: entries are checked and located", () => {
  assert.equal(Reads.parse(undefined).all, true);
  assert.equal(Reads.parse(["request.headers", "*"]).all, true);
  assert.equal(Reads.parse(["request.headers"]).all, false);
  assert.throws(() => Reads.parse("request"), /`reads` must be a list/);
  assert.throws(() => Reads.parse(["request.headers", "Request"]), /reads\[1\]: "Request" is not a field name/);
  assert.throws(() => Reads.parse(["request.body.x"]), /reads\[0\]/);
  assert.throws(() => Reads.parse([7]), /reads\[0\]: 7/);
});

test("reads: views and records keep their identity and only the declared fields", () => {
  const reads = Reads.parse(["request.method", "response.status", "data"]);
  assert.deepEqual(reads.view("request", VIEW), { id: VIEW.id, route: "api", method: "POST" });
  const seen = reads.record(record());
  assert.deepEqual(seen, {
    type: "http",
    v: 1,
    id: VIEW.id,
    route_name: "api",
    timestamp: "2026-12-02T10:00:00.000Z",
    request: { method: "POST" },
    response: { status: 200 },
  });
  assert.equal(Reads.parse(["request"]).view("request", VIEW), VIEW);
  const oneHeader = Reads.parse(["request.headers.authorization", "response.headers.content-type"]);
  assert.deepEqual(oneHeader.view("request", VIEW), {
    id: VIEW.id,
    route: "api",
    headers: { authorization: "Bearer abcdefgh" },
  });
  const partial = oneHeader.record(record()) as HttpRecord;
  assert.deepEqual(partial.request, { headers: { Authorization: ["Bearer abcdefgh"] } });
  assert.deepEqual(partial.response, { headers: { "Content-Type": ["text/plain"] } });
  assert.throws(() => Reads.parse(["request.headers.Content-Type"]), /reads\[0\]/);
  const whole = record();
  assert.equal(Reads.ALL.record(whole), whole);
});

test("mergeRecord merges objects, replaces other values and removes nulls", () => {
  const merged = mergeRecord(
    { a: 1, b: { c: 2, d: [1, 2] }, e: "x" },
    { b: { d: [3], f: null }, e: null, g: true },
  );
  assert.deepEqual(merged, { a: 1, b: { c: 2, d: [3] }, g: true });
});

test("a plugin never sees a field it did not declare, and the part it returns is merged onto the whole record", async () => {
  const source = pluginSource(
    { name: "partial", hooks: ["onRequest", "onCapture"], reads: ["request.method", "response.headers"] },
    `export function onRequest(req) {
       if (req.headers !== undefined || req.url !== undefined || req.method !== "POST") throw new Error("saw " + JSON.stringify(req));
     }
     export function onCapture(r) {
       const request = JSON.stringify(r.request);
       if (request !== '{"method":"POST"}' || r.response.body !== undefined || r.duration_ms !== undefined) {
         throw new Error("saw " + JSON.stringify(r));
       }
       r.response.headers["X-Seen"] = ["yes"];
       return r;
     }`,
  );
  const plugin = await inlinePlugin("partial", source);
  const chain = new PluginChain("api", [plugin]);
  try {
    const decision = chain.runRequest({ ...VIEW, headers: { ...VIEW.headers } }, [], CONTEXT);
    assert.equal(decision.respond, undefined);
    assert.equal(plugin.metrics.errors, 0);
    const { record: out } = await chain.runCapture(record());
    assert.equal(plugin.metrics.errors, 0, "the plugin saw an undeclared field");
    const http = out as HttpRecord;
    assert.deepEqual(http.response?.headers, { "Content-Type": ["text/plain"], "X-Seen": ["yes"] });
    assert.equal(http.response?.body, "hello");
    assert.equal(http.request.body, "in");
    assert.equal(http.duration_ms, 1.5);
  } finally {
    plugin.dispose();
  }
});

test("long bodies cross beside the JSON and come back intact, NUL and non-ASCII included", async () => {
  const source = pluginSource(
    { name: "echo", hooks: ["onCapture", "onResponseBody"] },
    `export function onCapture(r) { r.response.body = r.response.body + "|" + r.response.body.length; return r; }
     export function onResponseBody(body) { return body.toUpperCase(); }`,
  );
  const plugin = await inlinePlugin("echo", source);
  const chain = new PluginChain("api", [plugin]);
  try {
    for (const body of ["é€😀 ".repeat(200), "a\0b".repeat(300), "short"]) {
      const { record: out } = await chain.runCapture(record(body));
      assert.equal((out as HttpRecord).response?.body, `${body}|${body.length}`);
      const result = chain.runBody("onResponseBody", {
        text: body,
        size: body.length,
        contentType: "text/plain",
        request: VIEW,
        response: { status: 200, status_text: "OK", headers: {} },
      }, CONTEXT);
      assert.deepEqual(result, { text: body.toUpperCase() });
    }
    assert.equal(plugin.metrics.errors, 0);
  } finally {
    plugin.dispose();
  }
});

test("host.text rewrites a body the plugin never sees; host.record scrubs a record that never crosses", async () => {
  const source = pluginSource(
    { name: "onhost", hooks: ["onResponseBody", "onCapture"], reads: ["response.status"] },
    `let rewriter, scrubber;
     export function setup() {
       rewriter = host.text.rewriter([{ literal: "secret", replacement: "s****t" }]);
       const sets = host.patterns.compile(["tok-[0-9]+"]);
       scrubber = host.record.scrubber({ headers: ["x-key"], custom: [{ patterns: sets, replacement: "tok-?" }] });
     }
     export function onResponseBody(body, res) {
       if (body !== null || res.status !== 200 || res.headers !== undefined) throw new Error("saw " + body);
       host.text.rewrite(rewriter);
     }
     export function onCapture(r) {
       if (r.response.body !== undefined) throw new Error("saw the body");
       if (host.record.scrub(scrubber)) return { type: r.type, id: r.id, tags: { scrubbed: true } };
     }`,
  );
  const plugin = await inlinePlugin("onhost", source);
  const chain = new PluginChain("api", [plugin]);
  try {
    const result = chain.runBody("onResponseBody", {
      text: "a secret and a secret",
      size: 21,
      contentType: "text/plain",
      request: VIEW,
      response: { status: 200, status_text: "OK", headers: { "content-type": "text/plain" } },
    }, CONTEXT);
    assert.deepEqual(result, { text: "a s****t and a s****t" });
    const input = record("token tok-123 here");
    input.request.headers = { "X-Key": ["k"], Accept: ["*/*"] };
    const { record: out } = await chain.runCapture(input);
    const http = out as HttpRecord;
    assert.equal(http.response?.body, "token tok-? here");
    assert.deepEqual(http.request.headers, { "X-Key": ["[REDACTED]"], Accept: ["*/*"] });
    assert.deepEqual(http.tags, { scrubbed: true });
    assert.equal(input.response?.body, "token tok-123 here", "the captured record itself is not changed in place");
    assert.equal(plugin.metrics.errors, 0);
  } finally {
    plugin.dispose();
  }
});

test("host.record and host.text outside their hooks throw, and a failed call's edits are dropped", async () => {
  const source = pluginSource(
    { name: "misuse", hooks: ["onRequest", "onCapture"], fail: "open" },
    `let scrubber;
     export function setup() { scrubber = host.record.scrubber({ headers: ["authorization"] }); }
     export function onRequest() { host.record.scrub(scrubber); }
     export function onCapture(r) { host.record.scrub(scrubber); throw new Error("after scrubbing"); }`,
  );
  const plugin = await inlinePlugin("misuse", source);
  const chain = new PluginChain("api", [plugin]);
  try {
    chain.runRequest({ ...VIEW, headers: { ...VIEW.headers } }, [], CONTEXT);
    assert.equal(plugin.metrics.errors, 1, "host.record.scrub outside onCapture is an error");
    const input = record();
    const { record: out } = await chain.runCapture(input);
    assert.deepEqual((out as HttpRecord).request.headers, { Authorization: ["Bearer abcdefgh"] });
    assert.equal(plugin.metrics.errors, 2);
  } finally {
    plugin.dispose();
  }
});
