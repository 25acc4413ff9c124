/**
 * SQLite while tapline runs: a row is in the file (as the stock `sqlite3`
 * shell reads it) within 2 s of the response, with either engine; with the
 * native engine a `kill -9` loses no committed row; and a runtime without
 * node:sqlite says so when `--sqlite-engine native` is asked for. Every wait
 * is bounded.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "./harness/client.ts";
import { marker, proxySpec, removeDir, sleep, tempDir } from "./harness/fixture.ts";
import { runtimes } from "./harness/runtimes.ts";
import { integrityOk, query, requireSqlite3 } from "./harness/sqlite.ts";
import { runTapline, startTapline, type Tapline } from "./harness/tapline.ts";
import { startUpstream, type Upstream } from "./harness/upstream.ts";

const T = { timeout: 30_000 };
/** The freshness promised: rows in the file within this long of the response. */
const FRESH_MS = 2_000;

/** Whether this Node (the one running the node target) has node:sqlite. */
async function nodeHasSqlite(): Promise<boolean> {
  try {
    await import("node:" + "sqlite");
    return true;
  } catch {
    return false;
  }
}

/** Polls `sqlite3` until the row of `m` is there; the ms it took, or undefined after `limitMs`. */
async function rowAppears(db: string, m: string, limitMs: number): Promise<number | undefined> {
  const start = performance.now();
  while (performance.now() - start < limitMs) {
    try {
      if (query(db, `SELECT id FROM http_entries WHERE req_url LIKE '%${m}%'`).length === 1) {
        return performance.now() - start;
      }
    } catch {
      // The file may not exist yet, or be replaced under the shell (sql.js writes a new file and renames it).
    }
    await sleep(50);
  }
  return undefined;
}

let up: Upstream;
before(async () => {
  requireSqlite3();
  up = await startUpstream("sqlite-live");
});
after(async () => {
  await up?.close();
});

for (const runtime of runtimes) {
  const engines = runtime === "node" && !(await nodeHasSqlite()) ? ["sqljs"] : ["sqljs", "native"];
  for (const engine of engines) {
    describe(`${runtime}: live SQLite (${engine})`, { timeout: 60_000 }, () => {
      let dir = "";
      let tap: Tapline | undefined;
      before(() => {
        dir = tempDir();
      });
      after(async () => {
        await tap?.kill();
        removeDir(dir);
      });

      test(`a row is in the file within ${FRESH_MS} ms of the response`, T, async () => {
        const db = join(dir, "live.db");
        tap = await startTapline(runtime, [
          "--sqlite-engine",
          engine,
          "--proxy",
          proxySpec({ name: "live", upstream: up.url, log_sqlite: db }),
        ]);
        const m = marker("live");
        const res = await request(tap.url("live", `/bytes/100?m=${m}`), { timeoutMs: 5_000 });
        assert.equal(res.status, 200);
        const took = await rowAppears(db, m, FRESH_MS);
        assert.ok(took !== undefined, `no row for ${m} in ${db} within ${FRESH_MS} ms`);
        if (engine === "native") {
          // Batches commit together at most 250 ms apart: the row is there well within a second.
          const second = marker("live2");
          await request(tap.url("live", `/bytes/100?m=${second}`), { timeoutMs: 5_000 });
          const again = await rowAppears(db, second, FRESH_MS);
          assert.ok(again !== undefined && again < 1_000, `native row took ${again} ms`);
          // A kill -9 loses nothing committed: the row stays in the file (its WAL), which stays sound.
          await tap.kill();
          assert.equal(query(db, "SELECT count(*) AS n FROM http_entries")[0]!["n"], 2);
          assert.ok(integrityOk(db), `${db} passes integrity_check after kill -9`);
        }
      });
    });
  }

  if (runtime === "node" && !(await nodeHasSqlite())) {
    test(`node ${process.versions.node}: --sqlite-engine native names what it needs and exits 69`, T, async () => {
      const dir = tempDir();
      try {
        const result = await runTapline(runtime, [
          "--sqlite-engine",
          "native",
          "--proxy",
          proxySpec({ name: "n", upstream: up.url, log_sqlite: join(dir, "n.db") }),
        ]);
        assert.equal(result.code, 69, result.stderr);
        assert.match(result.stderr, /sqlite_engine "native" needs node:sqlite \(Node 22\.13 or later/);
        assert.match(result.stderr, /use sqlite_engine "sqljs"/);
      } finally {
        removeDir(dir);
      }
    });
  }
}
