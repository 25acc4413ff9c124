import assert from "node:assert/strict";
import { test } from "node:test";
import { PluginInstance } from "../../../src/plugins/instance.ts";
import { PluginMetrics } from "../../../src/plugins/metrics.ts";
import { DEFAULT_PLUGIN_LIMITS, TEXT_BODY_TYPES } from "../../../src/plugins/types.ts";
import { inlinePlugin, pluginSource, stubLogger } from "./inline-fixture.ts";

const CONTEXT = { routeName: "api", connectionId: "c1" };

test("an instance without a sandbox fails every call as disabled", () => {
  const { logger } = stubLogger();
  const instance = new PluginInstance({
    id: "p",
    manifest: { name: "p", version: "1", description: "d", hooks: ["onRequest"] },
    fail: "open",
    limits: DEFAULT_PLUGIN_LIMITS,
    routes: ["api"],
    hooks: ["onRequest"],
    bodyContentTypes: undefined,
    metrics: new PluginMetrics("p"),
    logger,
  });
  assert.equal(instance.invoke("onRequest", "[]", CONTEXT).ok, false);
  assert.equal(instance.metrics.calls.onRequest, 1);
  assert.equal(instance.appliesTo("api"), true);
  assert.equal(instance.appliesTo("other"), false);
  assert.deepEqual(instance.bodyContentTypes, TEXT_BODY_TYPES);
  assert.equal(instance.wantsBody(undefined), false);
  assert.equal(instance.wantsBody("application/vnd.x+json; charset=utf-8"), true);
  assert.equal(instance.wantsBody("application/octet-stream"), false);
});

test("invoke counts calls, time, timeouts and errors by kind", async () => {
  const instance = await inlinePlugin(
    "counted",
    pluginSource(
      { hooks: ["onRequest", "onCapture"] },
      `export function onRequest(x) { if (x === "loop") for (;;) {} if (x === "throw") throw new Error("no"); return x; }
       export function onCapture(x) { return x; }`,
    ),
    { limits: { hookMs: 20, captureMs: 300, failures: 100 } },
  );
  try {
    assert.deepEqual(instance.invoke("onRequest", '["ok"]', CONTEXT), { ok: true, value: "ok" });
    const timeout = instance.invoke("onRequest", '["loop"]', CONTEXT);
    assert.equal(timeout.ok ? "ok" : timeout.kind, "timeout");
    const error = instance.invoke("onRequest", '["throw"]', CONTEXT);
    assert.deepEqual(error, { ok: false, kind: "error", message: "Error: no" });
    assert.equal(instance.invoke("onCapture", '["c"]', CONTEXT).ok, true);
    const metrics = instance.metrics;
    assert.deepEqual(metrics.calls, { onRequest: 3, onCapture: 1 });
    assert.equal(metrics.timeouts, 1);
    assert.equal(metrics.errors, 1);
    assert.ok(metrics.seconds >= 0.015, `seconds ${metrics.seconds} include the timed-out call`);
  } finally {
    instance.dispose();
  }
});

test("onCapture gets the capture deadline, mutate hooks the hook deadline", async () => {
  const instance = await inlinePlugin(
    "slow",
    pluginSource(
      { hooks: ["onRequest", "onCapture"] },
      // Mostly pure loop steps, so the interrupt handler runs often (a loop of host calls is checked rarely).
      `function spin(ms) { const end = now() + ms; for (let i = 1; ; i++) if (i % 1000 === 0 && now() >= end) return ms; }
       export function onRequest() { return spin(60); }
       export function onCapture() { return spin(60); }`,
    ),
    { limits: { hookMs: 20, captureMs: 5000 } },
  );
  try {
    const request = instance.invoke("onRequest", "[]", CONTEXT);
    assert.equal(request.ok ? "ok" : request.kind, "timeout");
    assert.deepEqual(instance.invoke("onCapture", "[]", CONTEXT), { ok: true, value: 60 });
  } finally {
    instance.dispose();
  }
});

test("plugin log lines go to the logger with the plugin id, long messages cut", async () => {
  const { logger, lines } = stubLogger();
  const instance = await inlinePlugin(
    "talker",
    pluginSource(
      { hooks: ["onRequest"] },
      `export function onRequest() {
        log("error", "e"); log("warn", "w"); log("debug", "d"); log("other", "o"); console.warn("cw", 1);
        log("info", "y".repeat(5000));
      }`,
    ),
    { logger },
  );
  try {
    instance.invoke("onRequest", "[]", CONTEXT);
    const plugin = lines.filter((l) => l.msg === "plugin log");
    assert.deepEqual(plugin.slice(0, 5).map((l) => [l.level, l.fields?.message, l.fields?.plugin]), [
      ["error", "e", "talker"],
      ["warn", "w", "talker"],
      ["debug", "d", "talker"],
      ["info", "o", "talker"],
      ["warn", "cw 1", "talker"],
    ]);
    assert.equal((plugin[5]?.fields?.message as string).length, 2001);
  } finally {
    instance.dispose();
  }
});

test("emit outside a hook call is ignored", async () => {
  const calls: unknown[] = [];
  const instance = await inlinePlugin(
    "early",
    pluginSource(
      { hooks: ["onRequest"] },
      "export function setup() { emit({ during: 'setup' }); }\nexport function onRequest() {}",
    ),
    { onEmit: (_p, data) => calls.push(data) },
  );
  try {
    assert.deepEqual(calls, []);
    assert.equal(instance.metrics.emitted, 0);
  } finally {
    instance.dispose();
  }
});

test("an out-of-memory call counts, and whenReady waits for the rebuilt sandbox", async () => {
  const instance = await inlinePlugin(
    "hungry",
    pluginSource(
      { hooks: ["onCapture"] },
      `let seen = null;
       export function setup(c) { seen = c.mark; }
       export function onCapture(x) { if (x === "eat") { const a = []; for (;;) a.push("x" + a.length); } return seen; }`,
    ),
    { config: { mark: "m" }, limits: { memory: 24 * 1024 * 1024, captureMs: 10_000 } },
  );
  try {
    const outcome = instance.invoke("onCapture", '["eat"]', CONTEXT);
    assert.equal(outcome.ok ? "ok" : outcome.kind, "oom");
    assert.equal(instance.metrics.outOfMemory, 1);
    await instance.whenReady();
    assert.deepEqual(instance.invoke("onCapture", '["x"]', CONTEXT), { ok: true, value: "m" });
  } finally {
    instance.dispose();
  }
});

test("calls while the sandbox is rebuilt after out of memory are unavailable, not failures that disable it", async () => {
  const instance = await inlinePlugin(
    "rebuilt",
    pluginSource(
      { hooks: ["onRequest"] },
      `export function onRequest(x) { if (x === "oom") { const a = []; for (;;) a.push("x" + a.length); } return x; }`,
    ),
    { limits: { memory: 24 * 1024 * 1024, failures: 2, hookMs: 10_000 } },
  );
  try {
    const first = instance.invoke("onRequest", '["oom"]', CONTEXT);
    assert.equal(first.ok ? "ok" : first.kind, "oom");
    for (let i = 0; i < 5; i++) {
      const during = instance.invoke("onRequest", '["a"]', CONTEXT);
      assert.equal(during.ok ? "ok" : during.kind, "unavailable");
    }
    assert.equal(instance.metrics.unavailable, 5);
    assert.equal(instance.metrics.outOfMemory, 1);
    assert.equal(instance.disabled, false);
    await instance.whenReady();
    const after = instance.invoke("onRequest", '["b"]', CONTEXT);
    assert.deepEqual(after, { ok: true, value: "b" });
  } finally {
    instance.dispose();
  }
});
