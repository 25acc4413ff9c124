/**
 * PluginGenerations with real sandboxes: a reload builds the new set before
 * anything changes, swaps every route's chain, and frees the old set only
 * after the last exchange holding it lets go and the writer has settled.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { HookChain } from "../../../src/core/hooks.ts";
import { loadPlugins } from "../../../src/plugins/loader.ts";
import { PluginGenerations, PluginSetError } from "../../../src/plugins/generations.ts";
import type { PluginDeclaration } from "../../../src/plugins/types.ts";
import type { HttpRecord } from "../../../src/shared/record.ts";
import { ConfigError } from "../../../src/shared/errors.ts";
import { httpRecord } from "./bundled-fixture.ts";
import { declaration, pluginSource, stubLogger } from "./inline-fixture.ts";

/** Sources by file name: `tag-<n>.js` tags records with `n`; `broken.js` does not compile. */
const SOURCES: Record<string, string> = {
  "a.js": pluginSource(
    { hooks: ["onCapture"] },
    "export function onCapture(r) { return { ...r, tags: { set: 'a' } }; }",
  ),
  "b.js": pluginSource(
    { hooks: ["onCapture"] },
    "export function onCapture(r) { return { ...r, tags: { set: 'b' } }; }",
  ),
  "broken.js": pluginSource({ hooks: ["onCapture"] }, "export function onCapture(r) { return ; ;; }}}"),
  "throws.js": pluginSource(
    { hooks: ["onCapture"] },
    "export function setup() { throw new Error('no'); }\nexport function onCapture(r) {}",
  ),
};

function set(...ids: string[]): PluginDeclaration[] {
  return ids.map((id) => declaration(id));
}

async function started(
  first: PluginDeclaration[],
  drainTimeoutMs = 60_000,
  prepareSwap?: () => Promise<() => void>,
) {
  const routes: { name: string; plugins: HookChain | undefined }[] = [{ name: "api", plugins: undefined }];
  let settled = 0;
  const { logger, lines } = stubLogger();
  const generations = await PluginGenerations.start(first, {
    routeNames: ["api"],
    routes: () => routes,
    load: (declarations) =>
      loadPlugins(declarations, { readTextFile: (file) => Promise.resolve(SOURCES[file] ?? ""), logger }),
    settle: () => {
      settled++;
      return Promise.resolve();
    },
    drainTimeoutMs,
    logger,
    ...(prepareSwap ? { prepareSwap } : {}),
  });
  routes[0]!.plugins = generations.current.chains.get("api");
  return { generations, route: routes[0]!, settled: () => settled, lines };
}

/** The tag a chain's onCapture puts on a record. */
async function tagOf(chain: HookChain | undefined): Promise<unknown> {
  const [result] = await chain!.runCaptures([httpRecord() as unknown as HttpRecord]);
  return result!.record?.type === "http" ? result!.record.tags?.["set"] : undefined;
}

test("a reload swaps the route's chain; the old set is freed once its last user lets go", async () => {
  const { generations, route, settled } = await started(set("a"));
  try {
    const first = route.plugins!;
    assert.equal(first.generation, 1);
    first.hold(); // an exchange in flight on generation 1
    const next = await generations.replace(set("b"));
    assert.equal(next.number, 2);
    assert.equal(route.plugins!.generation, 2, "new exchanges get the new set");
    assert.equal(generations.live, 2, "the old set lives while it is used");
    assert.equal(await tagOf(first), "a", "the exchange in flight keeps its plugins");
    assert.equal(await tagOf(route.plugins), "b");
    first.release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(generations.live, 1);
    assert.equal(settled(), 1, "the writer settled before the old set was freed");
    assert.deepEqual(generations.reloads, { ok: 1, rejected: 0 });
  } finally {
    generations.close();
  }
});

test("a bad set is rejected with every problem located, and the running set stays", async () => {
  const { generations, route } = await started(set("a"));
  try {
    const before = route.plugins;
    await assert.rejects(generations.replace(set("b", "broken", "throws")), (error: unknown) => {
      assert.ok(error instanceof PluginSetError);
      assert.deepEqual(error.problems.map((p) => p.plugin), ["broken", "throws"]);
      assert.ok(error.problems.every((p) => p.message.length > 0));
      assert.match(error.problems[1]!.message, /setup/);
      return true;
    });
    assert.equal(route.plugins, before, "nothing was swapped");
    assert.equal(generations.current.number, 1);
    assert.equal(generations.live, 1, "the sandboxes of the rejected set were freed");
    assert.deepEqual(generations.reloads, { ok: 0, rejected: 1 });
    await generations.validate(set("b"));
    assert.equal(generations.current.number, 1, "validate changes nothing");
  } finally {
    generations.close();
  }
});

test("an empty set leaves routes without a chain", async () => {
  const { generations, route } = await started(set("a"));
  try {
    await generations.replace([]);
    assert.equal(route.plugins, undefined);
    assert.equal(generations.current.number, 2);
  } finally {
    generations.close();
  }
});

test("past the drain timeout, users still on an old set move to the newest one and the old set is freed", async () => {
  const { generations, route, lines } = await started(set("a"), 50);
  try {
    const first = route.plugins!;
    first.hold(); // a long-lived stream on generation 1
    await generations.replace(set("b"));
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(generations.live, 1, "generation 1 was freed");
    assert.ok(lines.some((line) => line.level === "warn" && /drain timeout/.test(line.msg)));
    assert.equal(first.generation, 2, "the stream is now served by generation 2");
    assert.equal(await tagOf(first), "b");
    // Its release now counts against generation 2, which a further reload can then free.
    first.release();
    await generations.replace(set("a"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(generations.live, 1);
  } finally {
    generations.close();
  }
});

test("what a set runs with (prepareSwap) is read again on reload and validation, swapped with the set, and its failure rejects it", async () => {
  let descriptors = "v1";
  let inUse = "v1";
  let reads = 0;
  const prepare = () => {
    reads++;
    const read = descriptors;
    if (read === "bad") {
      return Promise.reject(new ConfigError("Failed to load gRPC descriptors: bad", { field: "grpc.descriptors" }));
    }
    return Promise.resolve(() => void (inUse = read));
  };
  const { generations } = await started(set("a"), 60_000, prepare);
  try {
    assert.equal(reads, 0, "the first set starts with what start-up loaded");
    descriptors = "v2";
    await generations.validate(set("b"));
    assert.equal(inUse, "v1", "a validation swaps nothing");
    await generations.replace(set("b"));
    assert.equal(inUse, "v2");
    descriptors = "bad";
    await assert.rejects(generations.replace(set("a")), (error: PluginSetError) => {
      assert.deepEqual(error.problems, [{
        file: undefined,
        line: undefined,
        column: undefined,
        field: "grpc.descriptors",
        message: "Failed to load gRPC descriptors: bad",
      }]);
      return true;
    });
    assert.equal(inUse, "v2");
    assert.equal(generations.current.number, 2);
    assert.equal(reads, 3);
  } finally {
    generations.close();
  }
});
