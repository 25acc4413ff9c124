/**
 * `kill -9` under load, on each runtime, with JSONL and SQLite capture: every
 * JSONL line but possibly the last is a whole record; answered requests
 * missing from the JSONL were all answered within the last flush interval
 * (plus scheduling slack) before the kill; the SQLite file passes
 * `integrity_check`; `tapline reindex` rebuilds exactly the JSONL's records;
 * and a restart on the same files appends cleanly after a cut last line.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { proxySpec, removeDir, sleep, tempDir } from "../conformance/harness/fixture.ts";
import { runtimes } from "../conformance/harness/runtimes.ts";
import { integrityOk, requireSqlite3, tableCounts } from "../conformance/harness/sqlite.ts";
import { runTapline, startTapline, type Tapline } from "../conformance/harness/tapline.ts";
import { startUpstream, type Upstream } from "../conformance/harness/upstream.ts";
import { load } from "./load.ts";
import { scale } from "./scale.ts";

const T = { timeout: 180_000 };
const FLUSH_MS = 100;
/** How long the load runs before the kill. */
const LOAD_MS = scale(1500, 5000);
/** Time between a request being answered and its batch being written, beyond the flush interval: scheduling. */
const SLACK_MS = 400;

/** The JSONL lines; all but possibly the last must parse. */
function jsonlUrls(file: string): { urls: string[]; cutLast: boolean } {
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n");
  const last = lines.pop()!;
  const urls = lines.filter((line) => line !== "").map((line, i) => {
    try {
      return (JSON.parse(line) as { request: { url: string } }).request.url;
    } catch {
      throw new Error(`line ${i + 1} of ${file} is not a whole record (only the last may be cut)`);
    }
  });
  return { urls, cutLast: last !== "" };
}

for (const runtime of runtimes) {
  describe(`${runtime}: kill -9 under load`, { timeout: 300_000 }, () => {
    let up: Upstream;
    let dir = "";
    const args = () => [
      "--data-dir",
      join(dir, "data"),
      "--flush-interval",
      `${FLUSH_MS}ms`,
      "--proxy",
      proxySpec({ name: "api", upstream: up.url, log_jsonl: join(dir, "api.jsonl"), log_sqlite: join(dir, "api.db") }),
    ];

    before(async () => {
      requireSqlite3();
      up = await startUpstream("kill9");
      dir = tempDir("tapline-kill9-");
    });
    after(async () => {
      await up?.close();
      removeDir(dir);
    });

    test("no whole record lost beyond the last flush; SQLite intact; reindex exact; restart appends", T, async () => {
      const tap: Tapline = await startTapline(runtime, args());
      let killedAt = 0;
      const running = load(tap.port("api"), {
        total: 1_000_000,
        connections: 16,
        prefix: "k9",
        stop: () => killedAt > 0,
      });
      await sleep(LOAD_MS);
      killedAt = performance.now();
      tap.child.kill("SIGKILL");
      const result = await running;
      await tap.exited;
      assert.ok(result.ok > 100, `${result.ok} requests answered before the kill`);

      const { urls, cutLast } = jsonlUrls(join(dir, "api.jsonl"));
      const recorded = new Set(urls);
      const missing = result.answered.filter((a) => !recorded.has(a.path));
      const early = missing.filter((a) => a.at < killedAt - FLUSH_MS - SLACK_MS);
      assert.deepEqual(
        early.map((a) => `${a.path} answered ${Math.round(killedAt - a.at)} ms before the kill`).slice(0, 5),
        [],
        `${missing.length} of ${result.ok} answered requests are missing; only the last flush's may be`,
      );

      assert.ok(integrityOk(join(dir, "api.db")), "the SQLite file passes integrity_check after kill -9");

      const rebuilt = join(dir, "rebuilt.db");
      const reindex = await runTapline(runtime, ["reindex", rebuilt, join(dir, "api.jsonl")], 120_000);
      assert.equal(reindex.code, 0, reindex.stderr);
      assert.equal(tableCounts(rebuilt).http_entries, urls.length, "reindex rebuilds exactly the JSONL's records");

      // A restart on the same files: the cut line (if any) is ended, new records follow on lines of their own.
      const again = await startTapline(runtime, args());
      const more = await load(again.port("api"), { total: 20, connections: 4, prefix: "restart" });
      assert.equal(more.ok, 20);
      assert.equal((await again.stop()).code, 0, again.stderrTail());
      const text = readFileSync(join(dir, "api.jsonl"), "utf8");
      assert.ok(text.endsWith("\n"));
      const lines = text.split("\n").slice(0, -1);
      const broken = lines.filter((line) => {
        try {
          JSON.parse(line);
          return false;
        } catch {
          return true;
        }
      });
      assert.ok(broken.length <= (cutLast ? 1 : 0), `${broken.length} broken lines after the restart`);
      const restarted = lines.slice(-20).map((line) => (JSON.parse(line) as { request: { url: string } }).request.url);
      assert.deepEqual(restarted.sort(), Array.from({ length: 20 }, (_, i) => `/restart/${i}`).sort());
    });
  });
}
