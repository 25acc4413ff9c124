import assert from "node:assert/strict";
import { test } from "node:test";
import type { HttpRecord } from "../../../src/shared/record.ts";
import { PluginChain } from "../../../src/plugins/chain.ts";
import type { PluginInstance } from "../../../src/plugins/instance.ts";
import type { HookContext } from "../../../src/core/hooks.ts";
import { isValidRecord } from "../../../src/plugins/record-check.ts";
import type { FailMode } from "../../../src/plugins/types.ts";
import type { HookName, RequestView } from "../../../src/core/hooks.ts";
import { type InlineOptions, inlinePlugin, pluginSource, stubLogger } from "./inline-fixture.ts";
import { grpcDecoder } from "../../../src/capture/grpc-decoder.ts";
import { echoDescriptorSet, msg } from "../../conformance/harness/grpc-descriptors.ts";

const CONTEXT: HookContext = { routeName: "api", connectionId: "conn-1" };

function view(overrides: Partial<RequestView> = {}): RequestView {
  return {
    id: "11111111-2222-4333-8444-555555555555",
    route: "api",
    method: "GET",
    url: "/items?x=1",
    path: "/items",
    query: "x=1",
    headers: { host: "proxy.test", "x-in": "1" },
    client_ip: "127.0.0.1",
    ...overrides,
  };
}

function record(): HttpRecord {
  return {
    type: "http",
    v: 1,
    id: "11111111-2222-4333-8444-555555555555",
    route_name: "api",
    timestamp: "2026-11-21T03:40:00.000Z",
    duration_ms: 1.5,
    ttfb_request_ms: 0.1,
    ttfb_response_ms: 1,
    client_ip: "127.0.0.1:40000",
    upstream: "http://127.0.0.1:9000",
    request: { method: "GET", url: "/items", headers: { Host: ["proxy.test"] }, body_size: 0 },
    response: { status: 200, status_text: "OK", headers: { "Content-Type": ["text/plain"] }, body: "hi", body_size: 2 },
  };
}

/** Loads an inline plugin exporting `hooks`, declared in `body`. */
async function plugin(
  id: string,
  hooks: HookName[],
  body: string,
  options: InlineOptions = {},
): Promise<PluginInstance> {
  return await inlinePlugin(id, pluginSource({ name: id, hooks }, body), options);
}

function chainOf(...plugins: PluginInstance[]): PluginChain {
  return new PluginChain("api", plugins);
}

function dispose(chain: PluginChain): void {
  for (const p of chain.plugins) p.dispose();
}

const THROWS = (hook: HookName) => `export function ${hook}() { throw new Error("broken"); }`;

test("onRequest patches cascade: the second plugin sees the first's changes", async () => {
  const chain = chainOf(
    await plugin(
      "first",
      ["onRequest"],
      `export function onRequest(req) {
      return { method: "POST", url: "/one?a=b", headers: { "x-first": "1", "x-in": null } };
    }`,
    ),
    await plugin(
      "second",
      ["onRequest"],
      `export function onRequest(req) {
      return { headers: { "x-seen": [req.method, req.url, req.path, req.query, String(req.headers["x-first"]), String(req.headers["x-in"])].join("|") } };
    }`,
    ),
  );
  try {
    const decision = chain.runRequest(view(), ["Host", "proxy.test", "X-In", "1"], CONTEXT);
    assert.equal(decision.method, "POST");
    assert.equal(decision.url, "/one?a=b");
    assert.equal(decision.capture, true);
    assert.equal(decision.respond, undefined);
    assert.deepEqual(decision.headers, [
      "Host",
      "proxy.test",
      "x-first",
      "1",
      "x-seen",
      "POST|/one?a=b|/one|a=b|1|undefined",
    ]);
    assert.equal(chain.plugins[0]!.metrics.calls.onRequest, 1);
    assert.equal(chain.plugins[1]!.metrics.calls.onRequest, 1);
  } finally {
    dispose(chain);
  }
});

test("respond stops the chain and capture:false is kept", async () => {
  const chain = chainOf(
    await plugin("quiet", ["onRequest"], "export function onRequest() { return { capture: false }; }"),
    await plugin(
      "answer",
      ["onRequest"],
      `export function onRequest() {
      return { respond: { status: 418, headers: { "x-t": "1" }, body: "tea" } };
    }`,
    ),
    await plugin("never", ["onRequest"], "export function onRequest() { return { url: '/never' }; }"),
  );
  try {
    const decision = chain.runRequest(view(), ["Host", "proxy.test"], CONTEXT);
    assert.deepEqual(decision.respond, { status: 418, headers: { "x-t": "1" }, body: "tea" });
    assert.equal(decision.capture, false);
    assert.equal(decision.url, "/items?x=1");
    assert.equal(chain.plugins[2]!.metrics.calls.onRequest, undefined, "the plugin after respond is not called");
  } finally {
    dispose(chain);
  }
});

test("a closed onRequest failure refuses with 502; an open one passes", async () => {
  for (const fail of ["open", "closed"] as FailMode[]) {
    const chain = chainOf(
      await plugin("broken", ["onRequest"], THROWS("onRequest"), { fail }),
      await plugin("after", ["onRequest"], "export function onRequest() { return { headers: { 'x-after': '1' } }; }"),
    );
    try {
      const decision = chain.runRequest(view(), ["Host", "proxy.test"], CONTEXT);
      const broken = chain.plugins[0]!;
      assert.equal(broken.metrics.errors, 1, fail);
      if (fail === "closed") {
        assert.equal(decision.respond?.status, 502);
        assert.match(decision.respond?.body ?? "", /plugin broken failed/);
        assert.equal(broken.metrics.requestsRefused, 1);
        assert.equal(chain.plugins[1]!.metrics.calls.onRequest, undefined);
      } else {
        assert.equal(decision.respond, undefined);
        assert.equal(broken.metrics.requestsRefused, 0);
        assert.deepEqual(decision.headers, ["Host", "proxy.test", "x-after", "1"]);
      }
    } finally {
      dispose(chain);
    }
  }
});

test("invalid onRequest results count as errors and follow the failure mode", async () => {
  const invalid = [
    "42",
    "[1]",
    "{ method: 'GET /' }",
    "{ url: 'no-slash' }",
    "{ url: '/a b' }",
    "{ headers: { 'x-a': 'v\\r\\nX-Injected: 1' } }",
    "{ respond: { status: 99 } }",
    "{ respond: { status: 200, body: 5 } }",
    "{ respond: { status: 200, headers: { 'x-a': 'v\\r\\nSet-Cookie: evil=1' } } }",
    "{ respond: { status: 200, headers: { 'bad name': 'v' } } }",
  ];
  for (const fail of ["open", "closed"] as FailMode[]) {
    for (const value of invalid) {
      const chain = chainOf(
        await plugin("bad", ["onRequest"], `export function onRequest() { return ${value}; }`, { fail }),
      );
      try {
        const decision = chain.runRequest(view(), ["Host", "proxy.test"], CONTEXT);
        const metrics = chain.plugins[0]!.metrics;
        assert.equal(metrics.errors, 1, `${value} (${fail})`);
        if (fail === "closed") assert.equal(decision.respond?.status, 502, value);
        else {
          assert.equal(decision.respond, undefined, value);
          assert.equal(decision.method, "GET");
          assert.deepEqual(decision.headers, ["Host", "proxy.test"], value);
        }
      } finally {
        dispose(chain);
      }
    }
  }
});

test("a plugin is disabled after `failures` consecutive failures and a closed one keeps refusing", async () => {
  const { logger, lines } = stubLogger();
  const chain = chainOf(
    await plugin("flaky", ["onRequest", "onCapture"], `${THROWS("onRequest")}\n${THROWS("onCapture")}`, {
      fail: "closed",
      limits: { failures: 3 },
      logger,
    }),
  );
  try {
    const flaky = chain.plugins[0]!;
    for (let i = 0; i < 3; i++) chain.runRequest(view(), [], CONTEXT);
    assert.equal(flaky.metrics.disabled, 1);
    assert.equal(flaky.metrics.errors, 3);
    assert.ok(lines.some((l) => l.level === "error" && /disabled/.test(l.msg)));
    const decision = chain.runRequest(view(), [], CONTEXT);
    assert.equal(decision.respond?.status, 502, "a disabled closed plugin still refuses");
    assert.equal(flaky.metrics.errors, 3, "disabled calls are not errors");
    assert.equal(flaky.metrics.requestsRefused, 4);
    const captured = await chain.runCapture(record());
    assert.deepEqual(captured, { record: null, droppedBy: "flaky" });
    assert.equal(flaky.metrics.recordsDropped, 1);
  } finally {
    dispose(chain);
  }
});

test("a success resets the consecutive failure count", async () => {
  const chain = chainOf(
    await plugin(
      "alternating",
      ["onRequest"],
      `export function onRequest(req) { if (req.method === "BAD") throw new Error("x"); }`,
      {
        limits: { failures: 2 },
      },
    ),
  );
  try {
    for (let i = 0; i < 4; i++) {
      chain.runRequest(view({ method: "BAD" }), [], CONTEXT);
      chain.runRequest(view(), [], CONTEXT);
    }
    assert.equal(chain.plugins[0]!.metrics.errors, 4);
    assert.equal(chain.plugins[0]!.metrics.disabled, 0);
  } finally {
    dispose(chain);
  }
});

test("onResponse patches cascade and invalid statuses follow the failure mode", async () => {
  const chain = chainOf(
    await plugin(
      "status",
      ["onResponse"],
      `export function onResponse(res, req) {
      return { status: 203, status_text: "Changed\\r\\nX: y", headers: { "X-Route": req.route, server: null } };
    }`,
    ),
    await plugin(
      "echo",
      ["onResponse"],
      `export function onResponse(res) {
      return { headers: { "x-saw": res.status + " " + res.status_text + " " + res.headers["x-route"] + " " + res.headers.server } };
    }`,
    ),
  );
  try {
    const head = { status: 200, statusText: "OK", headers: ["Server", "s", "Content-Type", "text/plain"] };
    const result = chain.runResponse(head, view(), CONTEXT);
    assert.ok(!("refusedBy" in result));
    assert.equal(result.status, 203);
    assert.equal(result.statusText, "Changed  X: y");
    assert.deepEqual(result.headers, [
      "Content-Type",
      "text/plain",
      "X-Route",
      "api",
      "x-saw",
      "203 Changed  X: y api undefined",
    ]);
  } finally {
    dispose(chain);
  }
  for (const fail of ["open", "closed"] as FailMode[]) {
    const bad = chainOf(
      await plugin("bad", ["onResponse"], "export function onResponse() { return { status: 99 }; }", { fail }),
    );
    try {
      const head = { status: 200, statusText: "OK", headers: [] };
      const result = bad.runResponse(head, view(), CONTEXT);
      assert.equal(bad.plugins[0]!.metrics.errors, 1);
      if (fail === "closed") assert.deepEqual(result, { refusedBy: "bad" });
      else assert.deepEqual(result, head);
    } finally {
      dispose(bad);
    }
  }
});

test("runBody cascades text, skips bodies over the limit or of unwanted types, and refuses closed", async () => {
  const chain = chainOf(
    await plugin(
      "upper",
      ["onRequestBody"],
      "export function onRequestBody(body, req) { return body.toUpperCase() + req.method; }",
    ),
    await plugin("wrap", ["onRequestBody"], "export function onRequestBody(body) { return '[' + body + ']'; }", {
      limits: { body: 4 },
    }),
  );
  try {
    const request = view();
    const body = (text: string, contentType: string) => ({ text, size: text.length, contentType, request });
    assert.deepEqual(chain.runBody("onRequestBody", body("abc", "text/plain"), CONTEXT), { text: "[ABCGET]" });
    assert.deepEqual(chain.runBody("onRequestBody", body("abcde", "text/plain"), CONTEXT), { text: "ABCDEGET" });
    assert.equal(chain.plugins[1]!.metrics.bodiesSkipped, 1);
    assert.deepEqual(chain.runBody("onRequestBody", body("abc", "image/png"), CONTEXT), { text: undefined });
    assert.equal(chain.plugins[0]!.metrics.bodiesSkipped, 1);
    assert.equal(chain.bodyLimit, 1024 * 1024);
    assert.equal(chain.wantsBody("onRequestBody", "application/json", 10), true);
    assert.equal(chain.wantsBody("onRequestBody", "image/png", 10), false);
    assert.equal(chain.wantsBody("onResponseBody", "text/plain", 10), false);
  } finally {
    dispose(chain);
  }
  const closed = chainOf(
    await plugin("num", ["onRequestBody"], "export function onRequestBody() { return 5; }", { fail: "closed" }),
  );
  try {
    assert.deepEqual(
      closed.runBody("onRequestBody", { text: "a", size: 1, contentType: "text/plain", request: view() }, CONTEXT),
      { refusedBy: "num" },
    );
    assert.equal(closed.plugins[0]!.metrics.errors, 1);
    assert.equal(closed.plugins[0]!.metrics.requestsRefused, 1);
  } finally {
    dispose(closed);
  }
});

test("runSseEvent: undefined keeps, null drops, {data} replaces, other values are invalid", async () => {
  const chain = chainOf(
    await plugin(
      "sse",
      ["onSseEvent"],
      `export function onSseEvent(event, req) {
      if (event.data === "keep") return undefined;
      if (event.data === "drop") return null;
      if (event.data === "string") return "text";
      if (event.data === "number") return { data: 5 };
      return { data: event.data + "!", id: "9", retry: 100, event: "" };
    }`,
    ),
    await plugin(
      "sse2",
      ["onSseEvent"],
      "export function onSseEvent(event, req) { if (event.data.endsWith('!')) return { ...event, data: event.data + req.route }; }",
    ),
  );
  try {
    const rest = view();
    assert.equal(chain.runSseEvent({ event: "message", data: "keep" }, rest, CONTEXT), undefined);
    assert.equal(chain.runSseEvent({ event: "message", data: "drop" }, rest, CONTEXT), null);
    assert.equal(chain.plugins[1]!.metrics.calls.onSseEvent, 1, "a dropped event goes no further");
    assert.deepEqual(chain.runSseEvent({ event: "tick", data: "x" }, rest, CONTEXT), {
      event: "message",
      data: "x!api",
      id: "9",
      retry: 100,
    });
    assert.equal(chain.runSseEvent({ event: "message", data: "string" }, rest, CONTEXT), undefined);
    assert.equal(chain.runSseEvent({ event: "message", data: "number" }, rest, CONTEXT), undefined);
    assert.equal(chain.plugins[0]!.metrics.errors, 2);
  } finally {
    dispose(chain);
  }
  const closed = chainOf(
    await plugin("sse", ["onSseEvent"], "export function onSseEvent() { return 'x'; }", { fail: "closed" }),
  );
  try {
    assert.equal(closed.runSseEvent({ event: "message", data: "a" }, view(), CONTEXT), null);
  } finally {
    dispose(closed);
  }
});

test("runWsMessage: undefined keeps, null drops, a string or {data} replaces", async () => {
  const chain = chainOf(
    await plugin(
      "ws",
      ["onWsMessage"],
      `export function onWsMessage(message, connection) {
      if (message.data === "keep") return undefined;
      if (message.data === "drop") return null;
      if (message.data === "text") return "T:" + connection.id;
      if (message.data === "object") return { data: "O:" + message.direction };
      return 42;
    }`,
    ),
    await plugin(
      "ws2",
      ["onWsMessage"],
      "export function onWsMessage(message) { if (message.data.includes(':')) return message.data + '+'; }",
    ),
  );
  try {
    const connection = { id: "c1", route: "api", url: "/ws" };
    const run = (data: string) => chain.runWsMessage({ direction: "client_to_server", data }, connection, CONTEXT);
    assert.equal(run("keep"), undefined);
    assert.equal(run("drop"), null);
    assert.equal(run("text"), "T:c1+");
    assert.equal(run("object"), "O:client_to_server+");
    assert.equal(run("other"), undefined);
    assert.equal(chain.plugins[0]!.metrics.errors, 1);
  } finally {
    dispose(chain);
  }
});

test("runGrpcMessage: payload_json with descriptors, base64 payload, null drops, the next plugin sees the change", async () => {
  const chain = chainOf(
    await plugin(
      "rpc",
      ["onGrpcMessage"],
      `export function onGrpcMessage(message, call) {
      const text = message.payload_json && message.payload_json.text;
      if (text === "drop") return null;
      if (text === "json") return { payload_json: { text: call.method + ":" + message.direction } };
      if (text === "raw") return { payload: "CgNyYXc=" }; // test.Msg { text: "raw" }
      if (text === "bad") return { payload_json: { nope: 1 } };
      if (message.payload_size === 3 && !message.payload_json) return { payload: "CgF6" };
      if (message.compressed) return { payload: "CgF6", compressed: false };
    }`,
    ),
    await plugin(
      "seen",
      ["onGrpcMessage"],
      `export function onGrpcMessage(message) {
      if (message.payload_json && message.payload_json.text === "raw") return { payload_json: { text: "raw+" } };
    }`,
    ),
  );
  try {
    const codec = grpcDecoder([{ name: "echo.binpb", bytes: echoDescriptorSet() }]).codec(
      "/test.Echo/Unary",
      "client_to_server",
    );
    const call = { id: "c1", route: "api", url: "/test.Echo/Unary", service: "test.Echo", method: "Unary" };
    const run = (text: string, withCodec = true, compressed = false) =>
      chain.runGrpcMessage(
        { direction: "client_to_server", compressed, payload: msg(text) },
        call,
        withCodec ? codec : undefined,
        CONTEXT,
      );
    const plain = (bytes: Uint8Array) => ({ compressed: false, payload: bytes });
    assert.equal(run("keep"), undefined);
    assert.equal(run("drop"), null);
    assert.deepEqual(run("json"), plain(msg("Unary:client_to_server")));
    assert.deepEqual(run("raw"), plain(msg("raw+")));
    // Without descriptors there is no payload_json; a base64 payload still replaces the message.
    assert.deepEqual(run("a", false), plain(msg("z")));
    // A compressed message has no payload_json; `compressed: false` sends the replacement uncompressed.
    assert.deepEqual(run("compressed bytes", true, true), plain(msg("z")));
    assert.equal(chain.plugins[0]!.metrics.errors, 0);
    // payload_json that does not fit the type is an invalid result: the message stays (fail open).
    assert.equal(run("bad"), undefined);
    assert.equal(chain.plugins[0]!.metrics.errors, 1);
  } finally {
    dispose(chain);
  }
});

test("runGrpcMessage: a message over a plugin's body limit skips it, counted", async () => {
  const chain = chainOf(
    await plugin("small", ["onGrpcMessage"], "export function onGrpcMessage() { return null; }", {
      limits: { body: 4 },
    }),
  );
  try {
    const call = { id: "c1", route: "api", url: "/s/M", service: "s", method: "M" };
    const message = { direction: "server_to_client" as const, compressed: false, payload: msg("long enough") };
    assert.equal(chain.grpcMessageLimit, 4);
    assert.equal(chain.runGrpcMessage(message, call, undefined, CONTEXT), undefined);
    assert.equal(chain.plugins[0]!.metrics.bodiesSkipped, 1);
    assert.equal(chain.runGrpcMessage({ ...message, payload: msg("") }, call, undefined, CONTEXT), null);
  } finally {
    dispose(chain);
  }
});

test("runCapture replaces, drops with droppedBy, and checks returned records", async () => {
  const chain = chainOf(
    await plugin(
      "tag",
      ["onCapture"],
      `export function onCapture(r) {
      if (r.request.url === "/drop") return null;
      r.response.body = "changed"; return r;
    }`,
    ),
    await plugin(
      "see",
      ["onCapture"],
      "export function onCapture(r) { if (r.response.body !== 'changed') throw new Error('not cascaded'); }",
    ),
  );
  try {
    const result = await chain.runCapture(record());
    assert.equal(result.droppedBy, undefined);
    assert.equal((result.record as HttpRecord).response?.body, "changed");
    assert.equal(chain.plugins[1]!.metrics.errors, 0);
    const dropping = record();
    dropping.request.url = "/drop";
    assert.deepEqual(await chain.runCapture(dropping), { record: null, droppedBy: "tag" });
    assert.equal(chain.plugins[0]!.metrics.recordsDropped, 1);
  } finally {
    dispose(chain);
  }
  const invalid = [
    "{ ...r, id: 'other' }",
    "{ ...r, type: 'custom' }",
    "(() => { delete r.v; return r; })()",
    "{ ...r, duration_ms: 'slow' }",
    "7",
  ];
  for (const fail of ["open", "closed"] as FailMode[]) {
    for (const value of invalid) {
      const bad = chainOf(
        await plugin("bad", ["onCapture"], `export function onCapture(r) { return ${value}; }`, { fail }),
      );
      try {
        const result = await bad.runCapture(record());
        assert.equal(bad.plugins[0]!.metrics.errors, 1, value);
        if (fail === "closed") assert.deepEqual(result, { record: null, droppedBy: "bad" }, value);
        else assert.deepEqual(result, { record: record() }, value);
      } finally {
        dispose(bad);
      }
    }
  }
  assert.equal(isValidRecord(record()), true, "the test record itself is valid");
});

test("emit calls the EmitHandler with the plugin and the hook's context; over 1 MiB is dropped", async () => {
  const calls: Array<{ plugin: string; data: unknown; context: HookContext }> = [];
  const { logger, lines } = stubLogger();
  const chain = chainOf(
    await plugin(
      "emitter",
      ["onRequest", "onCapture"],
      `
      export function onRequest(req) { emit({ seen: req.url }); }
      export function onCapture(r) { if (r.request.url === "/big") emit("x".repeat(1024 * 1024)); else emit({ id: r.id }); }
    `,
      { logger, onEmit: (p, data, context) => calls.push({ plugin: p.id, data, context }) },
    ),
  );
  try {
    chain.runRequest(view(), [], CONTEXT);
    await chain.runCapture(record());
    assert.deepEqual(calls, [
      { plugin: "emitter", data: { seen: "/items?x=1" }, context: CONTEXT },
      {
        plugin: "emitter",
        data: { id: record().id },
        context: { routeName: "api", connectionId: record().id, generation: 1 },
      },
    ]);
    const metrics = chain.plugins[0]!.metrics;
    assert.equal(metrics.emitted, 2);
    const big = record();
    big.request.url = "/big";
    await chain.runCapture(big);
    assert.equal(calls.length, 2, "an emit over 1 MiB is not delivered");
    assert.equal(metrics.emitted, 2);
    assert.equal(metrics.recordsDropped, 1);
    assert.ok(lines.some((l) => l.level === "warn" && /too large/.test(l.msg)));
  } finally {
    dispose(chain);
  }
});

test("hooks are grouped per plugin in chain order", async () => {
  const a = await plugin(
    "a",
    ["onRequest", "onCapture"],
    "export function onRequest() {}\nexport function onCapture() {}",
  );
  const b = await plugin("b", ["onCapture"], "export function onCapture() {}");
  const chain = chainOf(a, b);
  try {
    assert.deepEqual(chain.hooks.onRequest.map((p) => p.id), ["a"]);
    assert.deepEqual(chain.hooks.onCapture.map((p) => p.id), ["a", "b"]);
    assert.equal(chain.hooks.onResponse.length, 0);
    assert.equal(chain.bodyLimit, 0);
  } finally {
    dispose(chain);
  }
});

test("an invalid patch is not half applied when the plugin fails open", async () => {
  const chain = chainOf(
    await plugin(
      "half",
      ["onRequest"],
      `export function onRequest(req) {
      if (req.url === "/a") return { respond: { status: 200 }, capture: false, method: "BAD METHOD" };
      return { url: "/changed", headers: { "x-a": "1", "bad name": "v" } };
    }`,
    ),
    await plugin(
      "next",
      ["onRequest"],
      "export function onRequest(req) { return { headers: { 'x-next': req.url + ' ' + req.headers['x-a'] } }; }",
    ),
  );
  try {
    const first = chain.runRequest(view({ url: "/a", path: "/a", query: "" }), [], CONTEXT);
    assert.equal(first.respond, undefined, "respond from an invalid patch");
    assert.equal(first.capture, true, "capture:false from an invalid patch");
    assert.equal(first.method, "GET");
    const second = chain.runRequest(view(), [], CONTEXT);
    assert.equal(second.url, "/items?x=1");
    assert.deepEqual(
      second.headers,
      ["x-next", "/items?x=1 undefined"],
      "the next plugin saw no part of the invalid patch",
    );
    assert.equal(chain.plugins[0]!.metrics.errors, 2);
  } finally {
    dispose(chain);
  }
  const response = chainOf(
    await plugin(
      "half",
      ["onResponse"],
      "export function onResponse() { return { status: 201, status_text: 'X', headers: 'oops' }; }",
    ),
    await plugin(
      "next",
      ["onResponse"],
      "export function onResponse(res) { return { headers: { 'x-saw': String(res.status) + res.status_text } }; }",
    ),
  );
  try {
    const result = response.runResponse({ status: 200, statusText: "OK", headers: [] }, view(), CONTEXT);
    assert.deepEqual(result, { status: 200, statusText: "OK", headers: ["x-saw", "200OK"] });
  } finally {
    dispose(response);
  }
});
