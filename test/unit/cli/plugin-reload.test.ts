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

test("--watch: an edit saved while a reload runs is reloaded too, not taken as applied", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tapline-watch-"));
  const plugin = join(dir, "tag.js");
  writeFileSync(plugin, "// v1\n");
  let reloads = 0;
  const generations = {
    current: { declarations: [{ id: "tag", file: plugin }] },
    replace: () => {
      reloads++;
      // The operator saves again while the first reload is being built.
      if (reloads === 1) writeFileSync(plugin, "// v3\n");
      return Promise.resolve({ number: reloads + 1 });
    },
  } as unknown as PluginGenerations;
  const files: PluginFiles = {
    generations,
    configFile: undefined,
    savedFile: join(dir, "plugins.runtime.yaml"),
    proxyNames: ["api"],
    runtime: { readTextFile: (path: string) => readFile(path, "utf8") } as unknown as Runtime,
    logger: createLogger("error", "json", () => {}),
  };
  const stop = watchPluginFiles(files);
  try {
    await sleep(600); // the watcher's first look
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
