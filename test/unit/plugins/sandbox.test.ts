import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../../src/shared/errors.ts";
import type { CallOutcome, PluginSandbox } from "../../../src/plugins/sandbox.ts";
import { sandboxOf } from "./inline-fixture.ts";

const MEMORY = 24 * 1024 * 1024;

const SOURCE = `
export const manifest = { name: "probe", version: "1.0.0", hooks: ["onRequest", "onCapture"] };
let config = null;
export function setup(c) { config = c; return { hooks: ["onCapture"] }; }
export function onCapture(record) { return { config, record }; }
export function onRequest(what) {
  if (what === "loop") for (;;) {}
  if (what === "regex") return /(a+)+$/.test("a".repeat(40) + "b");
  if (what === "deep") { const f = (n) => f(n + 1) + 1; return f(0); }
  if (what === "oom") { const list = []; for (;;) list.push("x" + list.length); }
  if (what === "oom-objects") { const list = []; for (;;) list.push({ k: list.length, v: [1, 2, 3] }); }
  if (what === "oom-map") { const map = new Map(); for (let i = 0;; i++) map.set("k" + i, i); }
  if (what === "grow") { const list = []; for (let i = 0; i < 16000; i++) list.push("y".repeat(1000) + i); return list.length; }
  if (what === "throw") throw new TypeError("bad input");
  if (what === "globals") {
    return [typeof Date, typeof require, typeof process, typeof fetch, typeof Deno, typeof Bun,
      Function("return this")() === globalThis, typeof emit, typeof log, typeof now, typeof console];
  }
  if (what === "emit") { emit({ n: 1 }); log("warn", "careful"); console.log("a", { b: 2 }); return now() > 0; }
  return undefined;
}
`;

function ok(outcome: CallOutcome): unknown {
  assert.ok(outcome.ok, `call failed: ${outcome.ok ? "" : `${outcome.kind}: ${outcome.message}`}`);
  return outcome.value;
}

function failure(outcome: CallOutcome): { kind: string; message: string } {
  assert.ok(!outcome.ok, `call succeeded with ${JSON.stringify(outcome.ok && outcome.value)}`);
  return { kind: outcome.kind, message: outcome.message };
}

async function loaded(): Promise<{ sandbox: PluginSandbox; emitted: string[]; logged: string[] }> {
  const result = await sandboxOf(SOURCE, MEMORY);
  assert.deepEqual(ok(result.sandbox.setup(JSON.stringify({ a: 1 }), 1000)), { hooks: ["onCapture"] });
  return result;
}

async function loadError(source: string): Promise<ConfigError> {
  try {
    const { sandbox } = await sandboxOf(source, MEMORY);
    sandbox.dispose();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    return error;
  }
  assert.fail("the plugin loaded");
}

test("exported hooks, setup and manifest are read from the module", async () => {
  const { sandbox } = await loaded();
  try {
    assert.deepEqual(sandbox.exportedHooks, ["onRequest", "onCapture"]);
    assert.equal(sandbox.hasSetup, true);
    assert.deepEqual(sandbox.manifest, { name: "probe", version: "1.0.0", hooks: ["onRequest", "onCapture"] });
    assert.deepEqual(ok(sandbox.call("onCapture", "[7]", 100)), { config: { a: 1 }, record: 7 });
    assert.equal(ok(sandbox.call("onResponse", "[]", 100)), undefined, "a hook not exported returns undefined");
    assert.equal(sandbox.ready, true);
  } finally {
    sandbox.dispose();
    sandbox.dispose();
  }
});

test("a module without setup accepts setup calls and returns undefined", async () => {
  const { sandbox } = await sandboxOf("export function onCapture(r) { return r; }", MEMORY);
  try {
    assert.equal(sandbox.hasSetup, false);
    assert.equal(sandbox.manifest, undefined);
    assert.equal(ok(sandbox.setup("{}", 100)), undefined);
  } finally {
    sandbox.dispose();
  }
});

test("an endless loop times out within its deadline and setup is replayed on the rebuilt context", async () => {
  const { sandbox } = await loaded();
  try {
    const started = performance.now();
    const outcome = failure(sandbox.call("onRequest", '["loop"]', 20));
    const elapsed = performance.now() - started;
    assert.equal(outcome.kind, "timeout");
    assert.ok(elapsed < 500, `took ${elapsed} ms for a 20 ms deadline`);
    assert.equal(sandbox.ready, true, "a timeout rebuilds at once");
    assert.deepEqual(ok(sandbox.call("onCapture", '["after"]', 100)), { config: { a: 1 }, record: "after" });
  } finally {
    sandbox.dispose();
  }
});

test("an endless loop in setup times out once: the rebuilt context does not run setup again", {
  timeout: 10_000,
}, async () => {
  const { sandbox } = await sandboxOf(
    "export function setup() { for (;;) {} }\nexport function onCapture(r) {}",
    MEMORY,
  );
  try {
    const started = performance.now();
    const outcome = failure(sandbox.setup("{}", 50));
    const elapsed = performance.now() - started;
    assert.equal(outcome.kind, "timeout");
    assert.ok(elapsed < 1000, `took ${elapsed} ms for a 50 ms deadline`);
  } finally {
    sandbox.dispose();
  }
});

test("a catastrophic regular expression is stopped at its deadline", async () => {
  const { sandbox } = await loaded();
  try {
    const started = performance.now();
    assert.equal(failure(sandbox.call("onRequest", '["regex"]', 20)).kind, "timeout");
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 500, `took ${elapsed} ms for a 20 ms deadline`);
    assert.deepEqual(ok(sandbox.call("onCapture", "[1]", 100)), { config: { a: 1 }, record: 1 });
  } finally {
    sandbox.dispose();
  }
});

test("a stack overflow is an error and the sandbox keeps its state", async () => {
  const { sandbox } = await loaded();
  try {
    const outcome = failure(sandbox.call("onRequest", '["deep"]', 1000));
    assert.equal(outcome.kind, "error");
    assert.match(outcome.message, /stack overflow/);
    assert.deepEqual(ok(sandbox.call("onCapture", "[2]", 100)), { config: { a: 1 }, record: 2 });
  } finally {
    sandbox.dispose();
  }
});

test("a thrown error is an error naming its class and message", async () => {
  const { sandbox } = await loaded();
  try {
    assert.deepEqual(failure(sandbox.call("onRequest", '["throw"]', 100)), {
      kind: "error",
      message: "TypeError: bad input",
    });
  } finally {
    sandbox.dispose();
  }
});

test("running out of memory is oom, the module is rebuilt in the background and setup replayed", async () => {
  const { sandbox } = await loaded();
  try {
    const outcome = failure(sandbox.call("onRequest", '["oom"]', 10_000));
    assert.equal(outcome.kind, "oom");
    assert.ok(sandbox.memoryBytes <= MEMORY, `memory ${sandbox.memoryBytes} above the cap ${MEMORY}`);
    assert.equal(sandbox.ready, false);
    const meanwhile = failure(sandbox.call("onCapture", "[3]", 100));
    assert.equal(meanwhile.kind, "unavailable");
    await sandbox.whenReady();
    assert.equal(sandbox.ready, true);
    assert.deepEqual(ok(sandbox.call("onCapture", "[3]", 100)), { config: { a: 1 }, record: 3 });
    assert.ok(sandbox.memoryBytes <= MEMORY);
    // A second exhaustion on the new module is handled the same way.
    assert.equal(failure(sandbox.call("onRequest", '["oom"]', 10_000)).kind, "oom");
    assert.ok(sandbox.memoryBytes <= MEMORY);
    await sandbox.whenReady();
    assert.deepEqual(ok(sandbox.call("onCapture", "[4]", 100)), { config: { a: 1 }, record: 4 });
  } finally {
    sandbox.dispose();
  }
});

test("no Date, require, process, fetch, Deno or Bun; Function('return this')() is the sandbox global", async () => {
  const { sandbox } = await loaded();
  try {
    assert.deepEqual(ok(sandbox.call("onRequest", '["globals"]', 100)), [
      "undefined",
      "undefined",
      "undefined",
      "undefined",
      "undefined",
      "undefined",
      true,
      "function",
      "function",
      "function",
      "object",
    ]);
  } finally {
    sandbox.dispose();
  }
});

test("emit, log, console and now reach the host", async () => {
  const { sandbox, emitted, logged } = await loaded();
  try {
    assert.equal(ok(sandbox.call("onRequest", '["emit"]', 100)), true);
    assert.deepEqual(emitted, ['{"n":1}']);
    assert.deepEqual(logged, ["warn:careful", 'info:a {"b":2}']);
  } finally {
    sandbox.dispose();
  }
});

test("the host-function plumbing is not reachable from the plugin", async () => {
  const { sandbox } = await sandboxOf(
    "export function onRequest() { return [typeof __tapline_emit, typeof __tapline_log, typeof __tapline_now]; }",
    MEMORY,
  );
  try {
    assert.deepEqual(ok(sandbox.call("onRequest", "[]", 100)), ["undefined", "undefined", "undefined"]);
  } finally {
    sandbox.dispose();
  }
});

test("a syntax error is a ConfigError with file, line and column", async () => {
  const error = await loadError("export const a = 1;\nexport function onRequest( {\n}");
  assert.equal(error.code, "plugin_invalid");
  assert.deepEqual(error.location, { file: "test-plugin.js", line: 3, column: 2 });
  assert.match(error.message, /^Failed to load plugin test-plugin\.js:3:2: SyntaxError: /);
});

test("a module throwing while evaluated names where it threw", async () => {
  const error = await loadError('export const manifest = {};\nthrow new Error("boom");');
  assert.equal(error.location.line, 2);
  assert.match(error.message, /test-plugin\.js:2:\d+: Error: boom/);
});

test("a module that never finishes evaluating fails at its deadline", async () => {
  const error = await loadError("for (;;) {}");
  assert.match(error.message, /evaluation exceeded its deadline/);
});

test("top-level await is refused", async () => {
  const error = await loadError("export const a = 1;\nawait 1;\nexport function onRequest() {}");
  assert.match(error.message, /top-level await is not supported/);
});

test("static imports fail to load", async () => {
  const error = await loadError('import x from "fs";\nexport function onRequest() { return x; }');
  assert.match(error.message, /could not load module/);
});

test("dynamic import() never yields a module", async () => {
  const { sandbox } = await sandboxOf(
    `let state = "pending";
     import("fs").then(() => { state = "loaded"; }, () => { state = "failed"; });
     export function onRequest() { return state; }`,
    MEMORY,
  );
  try {
    // Promise jobs never run in the sandbox: the import neither loads nor reports.
    assert.notEqual(ok(sandbox.call("onRequest", "[]", 100)), "loaded");
    assert.notEqual(ok(sandbox.call("onRequest", "[]", 100)), "loaded");
  } finally {
    sandbox.dispose();
  }
});

test("running out of memory on objects or a map is oom too", async () => {
  for (const what of ["oom-objects", "oom-map"]) {
    const { sandbox } = await loaded();
    try {
      assert.equal(failure(sandbox.call("onRequest", JSON.stringify([what]), 10_000)).kind, "oom", what);
      assert.ok(sandbox.memoryBytes <= MEMORY);
      await sandbox.whenReady();
      assert.deepEqual(ok(sandbox.call("onCapture", "[5]", 100)), { config: { a: 1 }, record: 5 });
    } finally {
      sandbox.dispose();
    }
  }
});

test("an ordinary error after an earlier call grew memory near the cap stays an error", async () => {
  const { sandbox } = await loaded();
  try {
    assert.equal(ok(sandbox.call("onRequest", '["grow"]', 10_000)), 16000);
    assert.ok(sandbox.memoryBytes >= MEMORY - 2 * 1024 * 1024, `memory grew to ${sandbox.memoryBytes} only`);
    // WebAssembly memory never shrinks: the size alone must not make this an oom (and a rebuild).
    assert.deepEqual(failure(sandbox.call("onRequest", '["throw"]', 100)), {
      kind: "error",
      message: "TypeError: bad input",
    });
    assert.equal(sandbox.ready, true);
    assert.equal(failure(sandbox.call("onRequest", '["deep"]', 1000)).kind, "error");
  } finally {
    sandbox.dispose();
  }
});
