/**
 * The example packs of examples/packs/ pass their own checks (`tapline pack
 * test`): every fixture runs in the real sandbox and passes, and each pack
 * keeps the fixtures that show what it does.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../../../src/shared/errors.ts";
import type { PluginInstance } from "../../../src/plugins/instance.ts";
import { loadPlugin } from "../../../src/plugins/loader.ts";
import { DEFAULT_PLUGIN_LIMITS } from "../../../src/plugins/types.ts";
import { packSource } from "../../../src/plugins/packs/fixtures.ts";
import { type CheckedPack, checkPack } from "../../../src/plugins/packs/pack-check.ts";
import { readPackFolder } from "../../../src/plugins/packs/pack-files.ts";
import { nodePackFiles } from "../../../src/runtime/shared/pack-files.ts";
import { VERSION } from "../../../src/version.ts";
import { stubLogger } from "../plugins/inline-fixture.ts";
import { repoRoot } from "./fixture.ts";

const PACKS = join(repoRoot(), "examples", "packs");

/** Runs `tapline pack test` on examples/packs/<name>, as the CLI does. */
async function checked(name: string): Promise<CheckedPack> {
  const dir = join(PACKS, name);
  return await checkPack(await readPackFolder(nodePackFiles, dir), dir, {
    taplineVersion: VERSION,
    logger: stubLogger().logger,
  });
}

/** The fixture names of a checked pack, after asserting that every fixture passed. */
function passedNames(pack: CheckedPack): string[] {
  for (const result of pack.fixtures) {
    assert.ok(result.passed, `${result.fixture.source}: ${result.error ?? result.diff}`);
  }
  return pack.fixtures.map((result) => result.fixture.name);
}

/** What the fixture named `name` emitted. */
function emittedBy(pack: CheckedPack, name: string): unknown {
  const result = pack.fixtures.find((r) => r.fixture.name === name);
  assert.ok(result, `no fixture "${name}"`);
  return result.output?.emitted;
}

/** Loads a plugin of an example pack from memory, as fixtures and `use: pack/plugin` do. */
async function packPlugin(
  pack: CheckedPack,
  plugin: string,
  config: Record<string, unknown>,
  emitted: unknown[] = [],
): Promise<PluginInstance> {
  const entry = pack.manifest.plugins.find((p) => p.name === plugin);
  assert.ok(entry, `no plugin ${plugin} in ${pack.manifest.name}`);
  return await loadPlugin({
    id: plugin,
    use: `${pack.manifest.name}/${plugin}`,
    pack: packSource(pack.manifest, pack.contents, entry),
    config,
    limits: DEFAULT_PLUGIN_LIMITS,
  }, {
    readTextFile: () => Promise.reject(new Error("packs are read from memory")),
    logger: stubLogger().logger,
    onEmit: (_plugin, data) => emitted.push(data),
  });
}

test("examples/packs holds the llm-usage and pii packs", () => {
  const names = readdirSync(PACKS, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.deepEqual(names.sort(), ["llm-usage", "pii"]);
});

test("llm-usage: every fixture passes, OpenAI and Anthropic streams among them", async () => {
  const pack = await checked("llm-usage");
  assert.deepEqual(
    [pack.manifest.name, pack.manifest.version, pack.manifest.license, pack.manifest.tapline],
    ["llm-usage", "1.0.0", "MIT", ">=0.1.0 <1"],
  );
  assert.deepEqual(pack.manifest.plugins.map((p) => [p.name, p.entry]), [["llm-usage", "plugins/llm-usage.js"]]);
  assert.deepEqual(passedNames(pack).sort(), [
    "a stream cut before [DONE] is reported incomplete when its http record is written",
    "an Anthropic messages stream gives one record with input and output tokens",
    "an OpenAI chat completion stream gives one record with the usage of its final chunk",
    "an error event ends an Anthropic stream",
    "onRequest never changes the request",
    "unnamed events that are not OpenAI chunks are not counted",
    "with paths, a stream whose request did not match is not counted",
  ]);
  assert.deepEqual(
    emittedBy(pack, "an OpenAI chat completion stream gives one record with the usage of its final chunk"),
    [{
      provider: "openai",
      model: "gpt-4o-mini-2024-07-18",
      input_tokens: 13,
      output_tokens: 7,
      total_tokens: 20,
      events: 4,
      finish_reason: "stop",
      complete: true,
    }],
  );
  assert.deepEqual(emittedBy(pack, "an Anthropic messages stream gives one record with input and output tokens"), [{
    provider: "anthropic",
    model: "claude-sonnet-4-5",
    input_tokens: 25,
    output_tokens: 15,
    total_tokens: 40,
    events: 6,
    stop_reason: "end_turn",
    complete: true,
  }]);
  assert.equal(emittedBy(pack, "with paths, a stream whose request did not match is not counted"), undefined);
});

test("llm-usage: the pack's plugin is examples/plugins/llm-usage.js as it is", async () => {
  const root = repoRoot();
  assert.equal(
    await readFile(join(PACKS, "llm-usage", "plugins", "llm-usage.js"), "utf8"),
    await readFile(join(root, "examples", "plugins", "llm-usage.js"), "utf8"),
  );
});

test("pii: every fixture passes, one per preset, an unchanged record among them", async () => {
  const pack = await checked("pii");
  assert.deepEqual(
    [pack.manifest.name, pack.manifest.version, pack.manifest.license],
    ["pii", "1.0.0", "MIT"],
  );
  assert.deepEqual(pack.manifest.plugins.map((p) => [p.name, p.entry]), [["secrets", "plugins/secrets.js"]]);
  const names = passedNames(pack);
  assert.equal(names.length, 9);
  const presets = ["aws_access_key_id", "github_token", "slack_token", "private_key", "api_key"];
  for (const preset of presets) {
    assert.ok(names.some((name) => name.startsWith(`${preset}: `)), `a fixture of preset ${preset}`);
  }
  assert.ok(names.includes("a record without secrets is written unchanged, near misses included"));
  assert.ok(names.includes("only the configured presets apply"));

  // The config schema lists exactly the presets the fixtures cover.
  const instance = await packPlugin(pack, "secrets", {});
  try {
    const schema = instance.manifest.config_schema as { properties: { presets: { items: { enum: string[] } } } };
    assert.deepEqual(schema.properties.presets.items.enum, presets);
    assert.deepEqual([...instance.hooks], ["onCaptureBatch"]);
    assert.equal(instance.fail, "closed");
  } finally {
    instance.dispose();
  }
});

test("pii: an unknown preset, or none, is refused when the plugin loads", async () => {
  // A fixture cannot show this: a plugin that does not load fails its fixture.
  const pack = await checked("pii");
  const refused: [string[], RegExp][] = [
    [["aws_access_key_id", "credit_card"], /one of the allowed values: "aws_access_key_id", "github_token"/],
    [[], /fewer than 1 items/],
  ];
  for (const [presets, reason] of refused) {
    await assert.rejects(packPlugin(pack, "secrets", { presets }), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, /invalid config for plugin "secrets" \(pii\/secrets\)/);
      assert.match(error.message, reason);
      return true;
    });
  }
});
