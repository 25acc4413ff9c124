import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import type { QuickJSContext } from "quickjs-emscripten-core";
import { loadEngine } from "../../../src/plugins/engine.ts";
import { QuickJSBridge } from "../../../src/plugins/quickjs-bridge.ts";

const require = createRequire(import.meta.url);

/** The version of an installed package, read from its package.json. */
function installed(name: string): string {
  const entry = require.resolve(name);
  const root = entry.slice(0, entry.lastIndexOf(`/node_modules/${name}/`) + `/node_modules/${name}/`.length);
  return (JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { version: string }).version;
}

test("quickjs-emscripten is pinned to the exact version whose internals the bridge uses", () => {
  const manifest = JSON.parse(readFileSync(new URL("../../../../package.json", import.meta.url), "utf8")) as {
    dependencies: Record<string, string>;
  };
  for (const name of ["quickjs-emscripten-core", "@jitl/quickjs-singlefile-mjs-release-sync"]) {
    assert.match(manifest.dependencies[name] ?? "", /^\d+\.\d+\.\d+$/, `${name} must be pinned to one version`);
    assert.equal(installed(name), manifest.dependencies[name], `${name}: installed version differs from the pin`);
  }
});

async function context(): Promise<QuickJSContext> {
  const engine = await loadEngine(32 * 1024 * 1024);
  return engine.module.newRuntime().newContext();
}

test("the internals the bridge uses are where it expects them; a context without them is refused by name", async () => {
  const ctx = await context();
  try {
    QuickJSBridge.check(ctx);
    assert.throws(
      () => QuickJSBridge.check({ module: {}, ffi: {} } as unknown as QuickJSContext),
      /Unsupported quickjs-emscripten version: missing internals module\._malloc, .*ffi\.QTS_Call/,
    );
  } finally {
    ctx.dispose();
  }
});

test("strings cross both ways intact through the heap", async () => {
  const ctx = await context();
  const bridge = new QuickJSBridge(ctx);
  try {
    const length = ctx.unwrapResult(ctx.evalCode("(s) => s + ':' + s.length"));
    for (const text of ["", "ascii", "é€😀", "x".repeat(1 << 20)]) {
      const result = bridge.call(length, ctx.undefined, [], [text]);
      assert.ok(result.error === undefined);
      assert.equal(bridge.readString(result.value), `${text}:${text.length}`);
      bridge.free(result.value);
    }
    length.dispose();
  } finally {
    bridge.dispose();
    ctx.dispose();
  }
});

test("a thrown value comes back as an error; lean host functions get and return strings", async () => {
  const ctx = await context();
  const bridge = new QuickJSBridge(ctx);
  try {
    const thrower = ctx.unwrapResult(ctx.evalCode("() => { throw new RangeError('nope'); }"));
    const result = bridge.call(thrower, ctx.undefined, [], []);
    assert.ok(result.error !== undefined);
    const error = bridge.handle(result.error);
    assert.deepEqual(ctx.dump(error).message, "nope");
    error.dispose();
    thrower.dispose();

    const seen: string[][] = [];
    const lean = (args: string[]) => {
      seen.push(args);
      return args.length === 0 ? undefined : args.join("+");
    };
    bridge.makeLean(lean);
    const fn = ctx.newFunction("lean", lean as never);
    ctx.setProp(ctx.global, "lean", fn);
    fn.dispose();
    // The public path still serves other host functions.
    const plain = ctx.newFunction("plain", (a) => ctx.newString(`plain:${ctx.getString(a)}`));
    ctx.setProp(ctx.global, "plain", plain);
    plain.dispose();
    const out = ctx.unwrapResult(ctx.evalCode(`[lean("a", "é"), lean(), plain("b"), lean(12)].join("|")`));
    assert.equal(ctx.getString(out), "a+é||plain:b|12");
    out.dispose();
    assert.deepEqual(seen, [["a", "é"], [], ["12"]]);
  } finally {
    bridge.dispose();
    ctx.dispose();
  }
});
