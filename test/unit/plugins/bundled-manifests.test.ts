import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Ajv } from "ajv";
import { BUNDLED_PLUGINS } from "../../../src/plugins/bundled.ts";
import { loadBundled, repoRoot } from "./bundled-fixture.ts";

const schema = JSON.parse(readFileSync(join(repoRoot(), "schemas", "plugin-manifest.schema.json"), "utf8")) as object;
const validateManifest = new Ajv({ strict: true, allErrors: true }).compile(schema);

for (const name of Object.keys(BUNDLED_PLUGINS)) {
  test(`${name}: manifest is valid, names the exported hooks and has a strict config schema`, async () => {
    const sandbox = await loadBundled(name);
    try {
      const manifest = sandbox.manifest as Record<string, unknown>;
      assert.ok(validateManifest(manifest), JSON.stringify(validateManifest.errors));
      assert.equal(manifest.name, name);
      assert.equal(manifest.version, "1.0.0");
      assert.deepEqual([...(manifest.hooks as string[])].sort(), [...sandbox.exportedHooks].sort());
      assert.ok(sandbox.hasSetup);
      const config = manifest.config_schema as Record<string, unknown>;
      assert.equal(config.type, "object");
      assert.equal(config.additionalProperties, false);
      // Compiles under strict mode, as the host compiles it.
      new Ajv({ strict: true, allErrors: true }).compile(config);
      for (const [key, property] of Object.entries(config.properties as Record<string, { description?: string }>)) {
        assert.ok(property.description, `${name} config.${key} has a description`);
      }
    } finally {
      sandbox.dispose();
    }
  });
}

test("manifest schema rejects unknown hooks, duplicate hooks, extra keys and bad fail modes", () => {
  const base = { name: "x", version: "1.0.0", description: "d", hooks: ["onCapture"] };
  assert.ok(validateManifest(base));
  assert.ok(validateManifest({ ...base, fail: "closed", config_schema: { type: "object" } }));
  assert.equal(validateManifest({ ...base, hooks: ["onFoo"] }), false);
  assert.equal(validateManifest({ ...base, hooks: [] }), false);
  assert.equal(validateManifest({ ...base, hooks: ["onCapture", "onCapture"] }), false);
  assert.equal(validateManifest({ ...base, extra: 1 }), false);
  assert.equal(validateManifest({ ...base, fail: "maybe" }), false);
  const { description: _, ...noDescription } = base;
  assert.equal(validateManifest(noDescription), false);
});

test("bundled failure modes: redaction closed, the others open", async () => {
  const modes: Record<string, unknown> = {};
  for (const name of Object.keys(BUNDLED_PLUGINS)) {
    const sandbox = await loadBundled(name);
    modes[name] = (sandbox.manifest as Record<string, unknown>).fail;
    sandbox.dispose();
  }
  assert.deepEqual(modes, { "path-filter": "open", redaction: "closed", "text-replace": "open" });
});
