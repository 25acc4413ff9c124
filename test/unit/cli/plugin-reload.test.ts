import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type PluginFiles, watchPluginFiles } from "../../../src/cli/plugin-reload.ts";
import type { PluginGenerations } from "../../../src/plugins/generations.ts";
import type { Runtime } from "../../../src/runtime/types.ts";
import { createLogger } from "../../../src/shared/logger.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What `--watch` is given: one plugin file and one descriptor file, with `replace` counting reloads. */
function watched(dir: string, plugin: string, descriptors: string, replace: () => void): PluginFiles {
  const generations = {
    current: { declarations: [{ id: "tag", file: plugin }] },
    replace: () => {
      replace();
      return Promise.resolve({ number: 2 });
    },
  } as unknown as PluginGenerations;
  return {
    generations,
    configFile: undefined,
    savedFile: join(dir, "plugins.runtime.yaml"),
    proxyNames: ["api"],
    descriptorFiles: [descriptors],
    runtime: {
      readTextFile: (path: string) => readFile(path, "utf8"),
      fs: { readFile: (path: string) => readFile(path).then((bytes) => new Uint8Array(bytes)) },
    } as unknown as Runtime,
    logger: createLogger("error", "json", () => {}),
  };
}

test("--watch: an edit saved while a reload runs is reloaded too, not taken as applied", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tapline-watch-"));
  const plugin = join(dir, "tag.js");
  writeFileSync(plugin, "// v1\n");
  let reloads = 0;
  const stop = await watchPluginFiles(watched(dir, plugin, join(dir, "none.binpb"), () => {
    reloads++;
    // The operator saves again while the first reload is being built.
    if (reloads === 1) writeFileSync(plugin, "// v3\n");
  }));
  try {
    writeFileSync(plugin, "// v2\n");
    const deadline = Date.now() + 6_000;
    while (reloads < 2 && Date.now() < deadline) await sleep(50);
    assert.equal(reloads, 2, "the edit saved during the first reload caused a second one");
    await sleep(1_200);
    assert.equal(reloads, 2, "and nothing more once the files hold still");
  } finally {
    stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--watch: a descriptor file rewritten as soon as the watcher is started is reloaded", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tapline-watch-"));
  const plugin = join(dir, "tag.js");
  const descriptors = join(dir, "set.binpb");
  writeFileSync(plugin, "// v1\n");
  writeFileSync(descriptors, new Uint8Array(0));
  let reloads = 0;
  const stop = await watchPluginFiles(watched(dir, plugin, descriptors, () => reloads++));
  try {
    // Right after start (tapline says `ready` here): the first look must already be taken, or it reads this.
    writeFileSync(descriptors, new Uint8Array([10, 0]));
    const deadline = Date.now() + 4_000;
    while (reloads < 1 && Date.now() < deadline) await sleep(50);
    assert.equal(reloads, 1);
  } finally {
    stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
