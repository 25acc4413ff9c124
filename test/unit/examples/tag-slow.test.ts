import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { callOk, type LoadedExample, loadExample, repoRoot, setupOk } from "./fixture.ts";

function httpRecord(durationMs: number): Record<string, unknown> {
  return {
    type: "http",
    v: 1,
    id: "0b7f7a4e-5a43-4d7e-9d0c-6f0d1c2b3a41",
    route_name: "api",
    timestamp: "2026-11-21T10:00:00.000Z",
    duration_ms: durationMs,
    ttfb_request_ms: 0.4,
    ttfb_response_ms: durationMs - 1,
    client_ip: "127.0.0.1:53122",
    upstream: "http://127.0.0.1:3000",
    request: { method: "GET", url: "/api/report?year=2026", headers: {}, body_size: 0 },
    response: { status: 200, status_text: "OK", headers: {}, body: "{}", body_size: 2 },
  };
}

describe("examples/plugins/tag-slow.js (the README's worked example)", () => {
  let example: LoadedExample;
  before(async () => {
    example = await loadExample("tag-slow");
  });
  after(() => example.sandbox.dispose());

  test("README.md shows the file exactly", () => {
    const source = readFileSync(join(repoRoot(), "examples", "plugins", "tag-slow.js"), "utf8");
    const readme = readFileSync(join(repoRoot(), "README.md"), "utf8");
    assert.ok(readme.includes("```js\n" + source + "```\n"), "README.md's example is examples/plugins/tag-slow.js");
  });

  test("setup narrows the hooks to what the config needs", () => {
    assert.deepEqual(setupOk(example.sandbox, {}), { hooks: ["onCapture"] });
    assert.deepEqual(setupOk(example.sandbox, { header: true }), { hooks: ["onResponse", "onCapture"] });
  });

  test("a slow exchange is tagged, emitted and logged; a fast one is unchanged", () => {
    setupOk(example.sandbox, { threshold_ms: 250 });
    example.emitted.length = 0;
    assert.equal(callOk(example.sandbox, "onCapture", httpRecord(12.5)), undefined);
    const tagged = callOk(example.sandbox, "onCapture", httpRecord(812.4)) as Record<string, unknown>;
    assert.deepEqual(tagged, { ...httpRecord(812.4), tags: { slow: true } });
    assert.deepEqual(example.emitted, [{ url: "/api/report?year=2026", status: 200, duration_ms: 812.4 }]);
    assert.deepEqual(example.logged, ["info: slow exchange GET /api/report?year=2026"]);
  });

  test("onResponse adds the route header", () => {
    const res = { status: 200, status_text: "OK", headers: {} };
    const req = { id: "x", route: "api", method: "GET", url: "/", path: "/", query: "", headers: {}, client_ip: "" };
    assert.deepEqual(callOk(example.sandbox, "onResponse", res, req), { headers: { "x-tapline-route": "api" } });
  });
});
