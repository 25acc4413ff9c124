import assert from "node:assert/strict";
import { test } from "node:test";
import { PluginSandbox } from "../../../src/plugins/sandbox.ts";

async function sandbox(source: string, memory = 64 * 1024 * 1024): Promise<PluginSandbox> {
  return await PluginSandbox.load({
    source,
    fileName: "primitives.js",
    memory,
    loadMs: 1000,
    host: { emit() {}, log() {} },
  });
}

test("host.patterns answers what V8 answers, and its errors are thrown in the plugin", async () => {
  const s = await sandbox(`
    let set;
    export function setup() { set = host.patterns.compile(["(\\\\w+)@(\\\\w+)\\\\.com", { source: "TOKEN-\\\\d+", flags: "i" }]); }
    export function onRequest(req) {
      const text = req.url;
      let bad = "";
      try { host.patterns.compile(["(?<=x)y"]); } catch (e) { bad = e.message; }
      return { scan: host.patterns.scan(text, set), test: host.patterns.test(text, set),
               replaced: host.patterns.replaceAll(text, set, "<$1>"), bad };
    }`);
  try {
    assert.deepEqual(s.setup("{}", 1000), { ok: true, value: undefined });
    const text = "mail ann@example.com token-42 é";
    const out = s.call("onRequest", JSON.stringify([{ url: text }]), 1000);
    assert.ok(out.ok, out.ok ? "" : out.message);
    const value = out.value as { scan: number[]; test: boolean; replaced: string; bad: string };
    const v8 = [...text.matchAll(/(\w+)@(\w+)\.com|TOKEN-\d+/gi)].flatMap((m) => [
      m.index!,
      m.index! + m[0].length,
      m[0].includes("@") ? 0 : 1,
    ]);
    assert.deepEqual(value.scan, v8);
    assert.equal(value.test, true);
    // As in JavaScript, $1 stays as written for the pattern that has no group 1.
    assert.equal(value.replaced, "mail <ann> <$1> é");
    assert.match(value.bad, /^patterns\[0\]: invalid regular expression: lookbehind/);
  } finally {
    s.dispose();
  }
});

test("a result larger than the plugin's memory fails the call, and the sandbox keeps working", async () => {
  const s = await sandbox(
    `let set;
     export function setup() { set = host.patterns.compile(["a"]); }
     export function onRequest(req) {
       if (req.small) return host.patterns.replaceAll("aaa", set, "b");
       return host.patterns.replaceAll("a".repeat(1 << 20), set, "0123456789abcdef").length;
     }`,
    17 * 1024 * 1024,
  );
  try {
    assert.ok(s.setup("{}", 1000).ok);
    const huge = s.call("onRequest", JSON.stringify([{}]), 5000);
    assert.equal(huge.ok, false, "16 Mi characters do not fit in 17 MiB");
    await s.whenReady();
    assert.deepEqual(s.call("onRequest", JSON.stringify([{ small: true }]), 1000), { ok: true, value: "bbb" });
  } finally {
    s.dispose();
  }
});

test("a loop of primitives stops at the hook's deadline", async () => {
  const s = await sandbox(`
    let set;
    export function setup() { set = host.patterns.compile(["b+$"]); }
    export function onRequest() { const text = "a".repeat(10000); for (;;) host.patterns.test(text, set); }`);
  try {
    assert.ok(s.setup("{}", 1000).ok);
    const started = performance.now();
    const outcome = s.call("onRequest", "[]", 20);
    assert.deepEqual(outcome, { ok: false, kind: "timeout", message: "deadline exceeded" });
    assert.ok(performance.now() - started < 500, `stopped after ${performance.now() - started} ms`);
  } finally {
    s.dispose();
  }
});
