/**
 * `--workers 2` on each target: two forwarding processes share the listener
 * and one process writes the captures. Every request is served and captured
 * exactly once; metrics add up over the workers; a worker killed with
 * SIGKILL is started again while forwarding goes on; a plugin set applied
 * through the admin API reaches every worker; SIGTERM under load leaves one
 * record per answered request.
 */
import assert from "node:assert/strict";
import { Agent } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "./harness/client.ts";
import { eventually, marker, sleep, tearDown, tempDir } from "./harness/fixture.ts";
import { adminArgs, adminToken, metric, metricsText, writePlugins } from "./harness/plugin-config.ts";
import { readRecords } from "./harness/records.ts";
import { tableCounts } from "./harness/sqlite.ts";
import { runtimes } from "./harness/runtimes.ts";
import { sigtermUnderLoad } from "./harness/sigterm-load.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import { startUpstream, type Upstream } from "./harness/upstream.ts";

const T = { timeout: 90_000 };

/** Worker process ids from the primary's `worker ready` lines (the latest per worker number). */
function workerPids(tap: Tapline): Map<number, number> {
  const pids = new Map<number, number>();
  for (const line of tap.logs) {
    if (line.msg === "worker ready") pids.set(line["worker"] as number, line["pid"] as number);
  }
  return pids;
}

for (const runtime of runtimes) {
  describe(`${runtime}: --workers 2`, { timeout: 300_000 }, () => {
    let up: Upstream;
    let tap: Tapline;
    let dir: string;
    const start = () =>
      startTapline(runtime, [
        "--workers",
        "2",
        ...adminArgs(dir),
        "--flush-interval",
        "20ms",
        "--proxy",
        `name=api,listen_http=127.0.0.1:0,upstream=${up.url},log_jsonl=${dir}/,log_sqlite=${dir}/`,
      ], { cwd: dir, readyTimeoutMs: 40_000 });

    before(async () => {
      up = await startUpstream("workers");
      dir = tempDir();
      tap = await start();
    });
    after(() => tearDown(tap, [up], dir));

    test("every request is served and captured exactly once; metrics add up over the workers", T, async () => {
      assert.equal(workerPids(tap).size, 2);
      const ready = tap.logs.find((line) => line.msg === "ready")!;
      assert.equal(ready["workers"], 2);
      const tag = marker("once");
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      const total = 200;
      const answers = await Promise.all(
        Array.from(
          { length: total },
          (_, i) => request(tap.url("api", `/once?tag=${tag}&n=${i}`), { agent, timeoutMs: 20_000 }),
        ),
      );
      agent.destroy();
      assert.ok(answers.every((res) => res.status === 200));
      const records = await eventually(
        () => Promise.resolve(readRecords(join(dir, "api.jsonl")).filter((r) => r.request.url.includes(tag))),
        (found) => found.length >= total,
      );
      const seen = records.map((r) => new URL(r.request.url, "http://x").searchParams.get("n"));
      assert.equal(new Set(seen).size, total, "each request once");
      assert.equal(seen.length, total, "no request twice");
      const text = await eventually(
        () => metricsText(tap),
        (m) => metric(m, "tapline_requests_total", "route=api") === total,
      );
      assert.equal(metric(text, "tapline_requests_total", "route=api"), total);
      assert.equal(metric(text, "http_tap_proxy_requests_total", "route=api"), total);
      assert.equal(metric(text, "tapline_workers"), 2);
      assert.equal(metric(text, "tapline_worker_restarts_total"), 0);
      // One writer for both files: SQLite holds the same rows.
      const sqliteRows = await eventually(
        () => Promise.resolve(tableCounts(join(dir, "api.db")).http_entries),
        (rows) => rows >= total,
        5_000,
      );
      assert.equal(sqliteRows, total);
    });

    test("a plugin set applied through the admin API reaches every worker", T, async () => {
      writePlugins(dir, {
        "stamp.js":
          `export const manifest = { name: "stamp", version: "1.0.0", description: "stamps", hooks: ["onRequest"] };\n` +
          `export function onRequest(req) { return { headers: { "x-stamp": "v2" } }; }\n`,
      });
      const res = await request(`http://127.0.0.1:${tap.adminPort()}/api/plugins`, {
        method: "PUT",
        headers: { "content-type": "application/json", authorization: `Bearer ${adminToken(dir)}` },
        body: JSON.stringify({ plugins: [{ id: "stamp", use: join(dir, "stamp.js") }] }),
        timeoutMs: 20_000,
      });
      assert.equal(res.status, 200, res.body.toString("utf8"));
      // The primary passes the set on at once; give the workers a moment to build it.
      const tag = marker("stamp");
      const stamped = await eventually(async () => {
        const before = up.requests.length;
        // Fresh connections, so both workers take some.
        await Promise.all(Array.from({ length: 20 }, (_, i) => request(tap.url("api", `/stamp?tag=${tag}&n=${i}`))));
        return up.requests.slice(before).map((r) => r.headers["x-stamp"]);
      }, (values) => values.every((v) => v === "v2"));
      assert.deepEqual([...new Set(stamped)], ["v2"], "every worker runs the new set");
    });

    test("a worker killed with SIGKILL is started again and forwarding goes on", T, async () => {
      const [first] = [...workerPids(tap).entries()];
      const [index, pid] = first!;
      let failed = 0;
      let answered = 0;
      let running = true;
      const client = async () => {
        while (running) {
          try {
            const res = await request(tap.url("api", `/during-kill`), { timeoutMs: 5_000 });
            if (res.status === 200) answered++;
            else failed++;
          } catch {
            failed++;
          }
        }
      };
      const load = Promise.all([client(), client(), client()]);
      await sleep(300);
      process.kill(pid, "SIGKILL");
      await tap.waitForLog(
        (line) => line.msg === "worker ready" && line["worker"] === index && line["pid"] !== pid,
        20_000,
        "the replacement worker",
      );
      const afterRestart = answered;
      await eventually(() => Promise.resolve(answered), (n) => n > afterRestart + 20, 5_000);
      running = false;
      await load;
      assert.ok(answered > afterRestart, "requests are answered after the restart");
      // Requests the killed worker had accepted are lost with it, and until the primary sees the exit it may hand the
      // dead worker a few more connections (round robin: every other one; seen up to 4 on Deno); the listener never
      // stops.
      assert.ok(failed <= 10, `${failed} requests failed around the kill (${answered} answered)`);
      assert.ok(tap.logs.some((line) => line.msg === "worker exited; starting another" && line["worker"] === index));
      const text = await eventually(
        () => metricsText(tap),
        (m) => metric(m, "tapline_worker_restarts_total") === 1 && metric(m, "tapline_workers") === 2,
      );
      assert.equal(metric(text, "tapline_worker_restarts_total"), 1);
      assert.equal(metric(text, "tapline_workers"), 2);
    });

    test("SIGTERM under load: one record for every answered request, exit 0", T, async () => {
      const tag = marker("term");
      const { answered, exit } = await sigtermUnderLoad(tap, tag);
      assert.deepEqual(exit, { code: 0, signal: null }, tap.stderrTail());
      const records = readRecords(join(dir, "api.jsonl"), true).filter((r) => r.request.url.includes(tag));
      assert.ok(answered > 20, `${answered} answered`);
      assert.equal(records.length, answered, "a record for every answered request, and no other");
    });
  });
}
