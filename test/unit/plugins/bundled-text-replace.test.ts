import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { PluginSandbox } from "../../../src/plugins/sandbox.ts";
import { callOk, jsonBody1k, loadBundled, microsPerCall, requestView, setupOk } from "./bundled-fixture.ts";

describe("bundled text-replace", () => {
  let sandbox: PluginSandbox;
  before(async () => {
    sandbox = await loadBundled("text-replace");
  });
  after(() => sandbox.dispose());

  const json = requestView({ method: "POST", headers: { "content-type": "application/json; charset=utf-8" } });
  const html = { status: 200, status_text: "OK", headers: { "content-type": "text/html" } };
  const png = { status: 200, status_text: "OK", headers: { "content-type": "image/png" } };
  const conn = { id: "c1", route: "api", url: "/ws" };

  test("asks only for the hooks and body types its rules use; bodies stay on the host", () => {
    const reads = ["request.headers.content-type", "response.headers.content-type"];
    assert.deepEqual(setupOk(sandbox, { rules: [] }), { hooks: [], reads });
    assert.deepEqual(setupOk(sandbox, { rules: [{ match: "a", replace: "b", in: ["sse", "ws"] }] }), {
      hooks: ["onSseEvent", "onWsMessage"],
      reads,
    });
    assert.deepEqual(
      setupOk(sandbox, {
        rules: [
          { match: "a", replace: "b", in: ["response.body"], content_types: ["application/json", "Text/*"] },
          { match: "c", replace: "d", in: ["request.body", "response.body"], content_types: ["application/*+json"] },
        ],
      }),
      {
        hooks: ["onRequestBody", "onResponseBody"],
        reads,
        body_content_types: ["application/json", "text/*", "application/*+json"],
      },
    );
    const all = setupOk(sandbox, { rules: [{ match: "a", replace: "b" }] }) as { hooks: string[] };
    assert.deepEqual(all.hooks, ["onRequestBody", "onResponseBody", "onSseEvent", "onWsMessage"]);
  });

  test("literal matches replace every occurrence, with no $ patterns", () => {
    setupOk(sandbox, { rules: [{ match: "gpt-4", replace: "$1 gpt-5 $&" }] });
    assert.equal(
      callOk(sandbox, "onRequestBody", '{"model":"gpt-4","fallback":"gpt-4"}', json),
      '{"model":"$1 gpt-5 $&","fallback":"$1 gpt-5 $&"}',
    );
    assert.equal(callOk(sandbox, "onRequestBody", '{"model":"claude"}', json), undefined);
  });

  test("a literal that merely starts with a slash stays literal", () => {
    setupOk(sandbox, { rules: [{ match: "/v1/users", replace: "/v2/users" }] });
    assert.equal(
      callOk(sandbox, "onResponseBody", "see /v1/users and /v1/users", html, json),
      "see /v2/users and /v2/users",
    );
  });

  test("regular expressions apply globally with their flags and $1", () => {
    setupOk(sandbox, { rules: [{ match: "/hello (\\w+)/i", replace: "bye $1" }] });
    assert.equal(callOk(sandbox, "onResponseBody", "Hello Ada, HELLO Bob", html, json), "bye Ada, bye Bob");
  });

  test("rules apply in order, each to the previous output", () => {
    setupOk(sandbox, { rules: [{ match: "a", replace: "b" }, { match: "/b+/", replace: "c" }] });
    assert.equal(callOk(sandbox, "onResponseBody", "aab", html, json), "c");
  });

  test("a content type outside the rule's types is skipped", () => {
    setupOk(sandbox, {
      rules: [
        { match: "x", replace: "y", content_types: ["application/json"] },
        { match: "q", replace: "r", content_types: ["text/*"] },
      ],
    });
    assert.equal(callOk(sandbox, "onResponseBody", "xq", html, json), "xr");
    assert.equal(callOk(sandbox, "onRequestBody", "xq", json), "yq");
    assert.equal(callOk(sandbox, "onResponseBody", "xq", png, json), undefined);
    const none = requestView({ headers: {} });
    assert.equal(callOk(sandbox, "onRequestBody", "xq", none), undefined);
    setupOk(sandbox, { rules: [{ match: "x", replace: "y", content_types: ["*/*"] }] });
    assert.equal(callOk(sandbox, "onRequestBody", "xq", none), "yq");
  });

  test("default content types are text-like", () => {
    setupOk(sandbox, { rules: [{ match: "x", replace: "y" }] });
    const problem = {
      status: 400,
      status_text: "Bad Request",
      headers: { "content-type": "application/problem+json" },
    };
    assert.equal(callOk(sandbox, "onResponseBody", "x", problem, json), "y");
    assert.equal(callOk(sandbox, "onResponseBody", "x", png, json), undefined);
  });

  test("in limits the targets", () => {
    setupOk(sandbox, { rules: [{ match: "x", replace: "y", in: ["response.body"] }] });
    assert.equal(callOk(sandbox, "onRequestBody", "x", json), undefined);
    assert.equal(callOk(sandbox, "onSseEvent", { event: "message", data: "x" }, json), undefined);
    assert.equal(callOk(sandbox, "onResponseBody", "x", html, json), "y");
  });

  test("SSE events: data is replaced and the other fields kept", () => {
    setupOk(sandbox, { rules: [{ match: "/secret-\\d+/", replace: "***", in: ["sse"] }] });
    assert.deepEqual(
      callOk(sandbox, "onSseEvent", { event: "delta", data: '{"text":"secret-42 ok"}', id: "7", retry: 1000 }, json),
      { event: "delta", data: '{"text":"*** ok"}', id: "7", retry: 1000 },
    );
    assert.equal(callOk(sandbox, "onSseEvent", { event: "delta", data: "nothing" }, json), undefined);
  });

  test("WebSocket messages: the new text is returned", () => {
    setupOk(sandbox, { rules: [{ match: "ping", replace: "pong", in: ["ws"] }] });
    assert.equal(
      callOk(sandbox, "onWsMessage", { direction: "client_to_server", data: "ping ping" }, conn),
      "pong pong",
    );
    assert.equal(callOk(sandbox, "onWsMessage", { direction: "server_to_client", data: "hi" }, conn), undefined);
  });

  test("an invalid regular expression fails setup naming the field", () => {
    const outcome = sandbox.setup(
      JSON.stringify({ rules: [{ match: "ok", replace: "" }, { match: "/a(/", replace: "" }] }),
      1000,
    );
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? "" : outcome.message, /rules\[1\]\.match: invalid regular expression: /);
  });

  test("a catastrophic regular expression answers at once: patterns run in linear time", () => {
    setupOk(sandbox, { rules: [{ match: "/(a+)+$/", replace: "x" }] });
    const start = performance.now();
    const evil = { text: "a".repeat(30) + "!" } as { text: string; changed?: string };
    const outcome = sandbox.call("onRequestBody", JSON.stringify([null, json]), 10, { text: evil });
    const elapsed = performance.now() - start;
    assert.deepEqual(outcome, { ok: true, value: undefined });
    assert.equal(evil.changed, undefined);
    assert.ok(elapsed < 10, `took ${elapsed} ms`);
    assert.equal(callOk(sandbox, "onRequestBody", "aaa", json), "x");
  });

  test("flags a linear-time engine lacks are refused naming the rule", () => {
    const outcome = sandbox.setup(JSON.stringify({ rules: [{ match: "/a/y", replace: "" }] }), 1000);
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? "" : outcome.message, /rules\[0\]\.match: /);
  });

  test("cost per call on a 1 KiB JSON body", () => {
    const body = jsonBody1k();
    setupOk(sandbox, {
      rules: [
        { match: "Item number", replace: "Article" },
        { match: '/"price":(\\d+)/g', replace: '"price":"$1"' },
      ],
    });
    const args = JSON.stringify([null, json]);
    const other = body.replaceAll("Item number", "Thing").replaceAll("price", "cost");
    const hit = microsPerCall(() => sandbox.call("onRequestBody", args, 100, { text: { text: body } }));
    const miss = microsPerCall(() => sandbox.call("onRequestBody", args, 100, { text: { text: other } }));
    const event = JSON.stringify([{ event: "message", data: body.slice(0, 200) }, json]);
    const sse = microsPerCall(() => sandbox.call("onSseEvent", event, 100));
    console.log(
      `text-replace: onRequestBody 1 KiB ${hit.toFixed(1)} µs (matches), ${miss.toFixed(1)} µs (no match); ` +
        `onSseEvent 200 B ${sse.toFixed(1)} µs per call`,
    );
    assert.ok(hit < 5000 && miss < 5000);
  });
});
