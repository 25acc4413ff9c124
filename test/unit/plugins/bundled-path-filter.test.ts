import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { PluginSandbox } from "../../../src/plugins/sandbox.ts";
import { callOk, httpRecord, type Json, loadBundled, microsPerCall, requestView, setupOk } from "./bundled-fixture.ts";

describe("bundled path-filter", () => {
  let sandbox: PluginSandbox;
  before(async () => {
    sandbox = await loadBundled("path-filter");
  });
  after(() => sandbox.dispose());

  const request = (method: string, path: string) => requestView({ method, path, url: path, query: "" });
  const withStatus = (status: number) => {
    const record = httpRecord();
    record.response.status = status;
    return record;
  };

  test("asks only for the hooks its config needs, and reads only method, path and status", () => {
    const hooksOf = (config: Json) => (setupOk(sandbox, config) as { hooks: string[] }).hooks;
    assert.deepEqual(hooksOf({}), []);
    assert.deepEqual(hooksOf({ include: ["^/api/"] }), ["onRequest"]);
    assert.deepEqual(hooksOf({ methods: ["get"] }), ["onRequest"]);
    assert.deepEqual(hooksOf({ status: ["5xx"] }), ["onCapture"]);
    assert.deepEqual(hooksOf({ exclude: ["x"], status: [404] }), ["onRequest", "onCapture"]);
    assert.deepEqual((setupOk(sandbox, {}) as { reads: string[] }).reads, [
      "request.method",
      "request.path",
      "response.status",
      "error",
    ]);
  });

  test("a catastrophic pattern answers at once: patterns run in linear time", () => {
    setupOk(sandbox, { include: ["(a+)+$"] });
    // A backtracking engine would need ~2^5000 steps here and hit the 1 s deadline (ok: false); a linear one answers.
    // The deadline is the check, not a wall clock: a loaded machine does not make it fail.
    const outcome = sandbox.call("onRequest", JSON.stringify([request("GET", "/" + "a".repeat(5000) + "!")]), 1000);
    assert.deepEqual(outcome, { ok: true, value: { capture: false } });
    assert.equal(callOk(sandbox, "onRequest", request("GET", "/aaaa")), undefined);
  });

  test("a pattern the linear-time engine cannot run fails setup naming its entry", () => {
    const outcome = sandbox.setup(JSON.stringify({ include: ["^/api/", "(?<=x)y"] }), 1000);
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? "" : outcome.message, /include\[1\]: invalid regular expression: lookbehind/);
  });

  test("include and exclude decide on the path", () => {
    setupOk(sandbox, { include: ["^/api/", "^/v2/"], exclude: ["^/api/health$", "\\.png$"] });
    assert.equal(callOk(sandbox, "onRequest", request("GET", "/api/users")), undefined);
    assert.equal(callOk(sandbox, "onRequest", request("GET", "/v2/orders")), undefined);
    assert.deepEqual(callOk(sandbox, "onRequest", request("GET", "/static/app.js")), { capture: false });
    assert.deepEqual(callOk(sandbox, "onRequest", request("GET", "/api/health")), { capture: false });
    assert.deepEqual(callOk(sandbox, "onRequest", request("GET", "/api/logo.png")), { capture: false });
    assert.equal(callOk(sandbox, "onRequest", request("GET", "/api/health/deep")), undefined);
  });

  test("gRPC calls are matched by their path, /package.Service/Method", () => {
    setupOk(sandbox, { include: ["^/helloworld\\.Greeter/"], exclude: ["^/grpc\\.health\\.v1\\.Health/"] });
    assert.equal(callOk(sandbox, "onRequest", request("POST", "/helloworld.Greeter/SayHello")), undefined);
    assert.deepEqual(callOk(sandbox, "onRequest", request("POST", "/grpc.health.v1.Health/Check")), { capture: false });
    assert.deepEqual(callOk(sandbox, "onRequest", request("POST", "/other.Service/Call")), { capture: false });
  });

  test("the query is not part of the path", () => {
    setupOk(sandbox, { exclude: ["secret"] });
    const req = requestView({ url: "/api/users?secret=1", path: "/api/users", query: "secret=1" });
    assert.equal(callOk(sandbox, "onRequest", req), undefined);
  });

  test("methods are compared case-insensitively", () => {
    setupOk(sandbox, { methods: ["post", "PUT"] });
    assert.equal(callOk(sandbox, "onRequest", request("POST", "/a")), undefined);
    assert.equal(callOk(sandbox, "onRequest", request("put", "/a")), undefined);
    assert.deepEqual(callOk(sandbox, "onRequest", request("GET", "/a")), { capture: false });
  });

  test("status keeps classes and exact codes and drops the rest", () => {
    setupOk(sandbox, { status: ["5xx", 404, "429"] });
    assert.equal(callOk(sandbox, "onCapture", withStatus(503)), undefined);
    assert.equal(callOk(sandbox, "onCapture", withStatus(500)), undefined);
    assert.equal(callOk(sandbox, "onCapture", withStatus(404)), undefined);
    assert.equal(callOk(sandbox, "onCapture", withStatus(429)), undefined);
    assert.equal(callOk(sandbox, "onCapture", withStatus(200)), null);
    assert.equal(callOk(sandbox, "onCapture", withStatus(403)), null);
  });

  test("records without a response are kept only when error is listed", () => {
    const failed = httpRecord({ response: undefined, error: "connect ECONNREFUSED 127.0.0.1:9000" });
    setupOk(sandbox, { status: ["2xx"] });
    assert.equal(callOk(sandbox, "onCapture", failed), null);
    setupOk(sandbox, { status: ["2xx", "error"] });
    assert.equal(callOk(sandbox, "onCapture", failed), undefined);
    assert.equal(callOk(sandbox, "onCapture", withStatus(201)), undefined);
    assert.equal(callOk(sandbox, "onCapture", withStatus(502)), null);
  });

  test("frames and events pass unchanged", () => {
    setupOk(sandbox, { status: ["5xx"] });
    const frame = {
      type: "websocket_frame",
      v: 1,
      id: "f1",
      route_name: "api",
      connection_id: "c1",
      timestamp: "2026-11-21T03:40:00.000Z",
      direction: "client_to_server",
      opcode: 1,
      opcode_name: "text",
      payload: "hi",
      payload_size: 2,
    };
    assert.equal(callOk(sandbox, "onCapture", frame), undefined);
    const event = { ...frame, type: "sse_event", t_delta_ms: 3, event: "message", data: "x" };
    assert.equal(callOk(sandbox, "onCapture", event), undefined);
    const message = { ...frame, type: "grpc_message", seq: 0, t_delta_ms: 1, compressed: false, payload_base64: true };
    assert.equal(callOk(sandbox, "onCapture", message), undefined);
  });

  test("an invalid regular expression fails setup naming the field", () => {
    const outcome = sandbox.setup(JSON.stringify({ include: ["^/ok"], exclude: ["^/a", "(unclosed"] }), 1000);
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? "" : outcome.message, /^Error: exclude\[1\]: invalid regular expression: /);
  });

  test("cost per call", () => {
    setupOk(sandbox, {
      include: ["^/api/"],
      exclude: ["^/api/health"],
      methods: ["GET", "POST"],
      status: ["5xx", 404],
    });
    const reqJson = JSON.stringify([request("GET", "/api/users")]);
    const recJson = JSON.stringify([withStatus(200)]);
    const onRequest = microsPerCall(() => sandbox.call("onRequest", reqJson, 100));
    const onCapture = microsPerCall(() => sandbox.call("onCapture", recJson, 100));
    console.log(`path-filter: onRequest ${onRequest.toFixed(1)} µs, onCapture ${onCapture.toFixed(1)} µs per call`);
    assert.ok(onRequest < 5000 && onCapture < 5000);
  });
});
