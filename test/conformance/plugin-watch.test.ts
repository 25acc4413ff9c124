/** `--watch`: editing a plugin file swaps it within 2 s; a broken edit is logged and the running set stays. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { request } from "./harness/client.ts";
import { sleep, tearDown, tempDir } from "./harness/fixture.ts";
import { adminArgs, adminToken, writeConfig, writePlugins } from "./harness/plugin-config.ts";
import { runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import { startUpstream, type Upstream } from "./harness/upstream.ts";

/** A manifest-less script tagging http records with `version`. */
const tagger = (version: string) =>
  `export function onCapture(r) { return r.type === "http" ? { ...r, tags: { version: "${version}" } } : r; }\n`;

for (const runtime of runtimes) {
  describe(`${runtime}: --watch reloads edited plugin files`, { timeout: 90_000 }, () => {
    let up: Upstream;
    let tap: Tapline;
    let dir: string;
    const running = async () => {
      const token = adminToken(dir);
      const res = await request(`http://127.0.0.1:${tap.adminPort()}/api/plugins`, {
        headers: { authorization: `Bearer ${token}` },
        timeoutMs: 5_000,
      });
      return JSON.parse(res.body.toString("utf8")) as { generation: number; plugins: Array<{ sha256: string }> };
    };
    /** Polls until the running generation differs from `generation`, or 2 s pass. */
    const changedFrom = async (generation: number) => {
      const started = Date.now();
      let now = await running();
      while (now.generation === generation && Date.now() - started < 2_000) {
        await sleep(50);
        now = await running();
      }
      return { now, ms: Date.now() - started };
    };

    before(async () => {
      up = await startUpstream("u1");
      dir = tempDir();
      writePlugins(dir, { "tag.js": tagger("1") });
      const config = writeConfig(dir, "tapline.yaml", { plugins: [{ id: "tag", use: "./tag.js" }] });
      tap = await startTapline(runtime, [
        "--config",
        config,
        "--watch",
        ...adminArgs(dir),
        "--proxy",
        `name=api,listen_http=127.0.0.1:0,upstream=${up.url}`,
      ]);
    });

    after(() => tearDown(tap, [up], dir));

    test("an edit swaps within 2 s; a broken edit keeps the running set", { timeout: 30_000 }, async () => {
      const first = await running();
      await sleep(500); // past the watcher's first look at the files
      writePlugins(dir, { "tag.js": tagger("2") });
      const { now, ms } = await changedFrom(first.generation);
      assert.equal(now.generation, first.generation + 1, `reloaded within 2 s (waited ${ms} ms)`);
      assert.notEqual(now.plugins[0]!.sha256, first.plugins[0]!.sha256, "the new source runs");

      writePlugins(dir, { "tag.js": "export function onCapture(r) { return ;;; }}}\n" });
      await tap.waitForLog((line) => /reload from files rejected/.test(String(line.msg)), 5_000, "the rejection");
      assert.equal((await running()).generation, now.generation, "the running set stays");

      writePlugins(dir, { "tag.js": tagger("3") });
      const fixed = await changedFrom(now.generation);
      assert.equal(fixed.now.generation, now.generation + 1, "a fixed file is picked up again");
    });
  });
}
