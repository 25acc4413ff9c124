import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { DEFAULT_PLUGIN_LIMITS } from "../../../src/plugins/types.ts";
import { loadPlugin } from "../../../src/plugins/loader.ts";
import { memoryLogger, repoRoot } from "./fixture.ts";

const file = join(repoRoot(), "examples", "plugins", "not-found.js");

/** Only the fields the script reads: the loader does not check what a hook is given. */
function httpRecord(status: number): Record<string, unknown> {
  return { type: "http", id: "0b7f7a4e", request: { method: "GET", url: "/api/gone?x=1" }, response: { status } };
}

test("README.md's shortest plugin is examples/plugins/not-found.js, exactly", async () => {
  const source = await readFile(file, "utf8");
  const readme = await readFile(join(repoRoot(), "README.md"), "utf8");
  assert.ok(readme.includes("```js\n" + source + "```\n"), "README.md shows examples/plugins/not-found.js");
  assert.ok(!source.includes("manifest"), "the example has no manifest");
});

test("examples/plugins/not-found.js loads without a manifest, tags 404 records and emits one record each", async () => {
  const emitted: unknown[] = [];
  const instance = await loadPlugin(
    { id: "missing", use: "./plugins/not-found.js", file, config: {}, limits: DEFAULT_PLUGIN_LIMITS },
    {
      readTextFile: (path) => readFile(path, "utf8"),
      logger: memoryLogger(),
      onEmit: (_plugin, data) => emitted.push(data),
    },
  );
  try {
    assert.deepEqual(
      { name: instance.manifest.name, version: instance.manifest.version, hooks: [...instance.hooks] },
      { name: "not-found", version: "0.0.0", hooks: ["onCapture"] },
    );
    assert.equal(instance.fail, "open");
    const context = { routeName: "api", connectionId: "0b7f7a4e" };
    assert.deepEqual(instance.invoke("onCapture", JSON.stringify([httpRecord(200)]), context), {
      ok: true,
      value: undefined,
    });
    assert.deepEqual(emitted, []);
    assert.deepEqual(instance.invoke("onCapture", JSON.stringify([httpRecord(404)]), context), {
      ok: true,
      value: { ...httpRecord(404), tags: { not_found: true } },
    });
    assert.deepEqual(emitted, [{ missing: "/api/gone?x=1" }]);
  } finally {
    instance.dispose();
  }
});
