import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { BUNDLED_PLUGINS } from "../../../src/plugins/bundled.ts";
import { repoRoot } from "./bundled-fixture.ts";

interface EmbedScript {
  generate(pluginsDir?: string): string;
}

const root = repoRoot();
const script = (await import(pathToFileURL(join(root, "scripts", "embed-plugins.js")).href)) as EmbedScript;

test("src/plugins/bundled.ts is what scripts/embed-plugins.js generates now", () => {
  const committed = readFileSync(join(root, "src", "plugins", "bundled.ts"), "utf8");
  assert.ok(
    committed === script.generate(join(root, "plugins")),
    "src/plugins/bundled.ts is stale: run node scripts/embed-plugins.js",
  );
});

test("BUNDLED_PLUGINS holds every plugins/*/plugin.js source verbatim", () => {
  assert.deepEqual(Object.keys(BUNDLED_PLUGINS), ["path-filter", "redaction", "text-replace"]);
  for (const [name, source] of Object.entries(BUNDLED_PLUGINS)) {
    assert.equal(source, readFileSync(join(root, "plugins", name, "plugin.js"), "utf8"), name);
  }
  assert.ok(Object.isFrozen(BUNDLED_PLUGINS));
});
