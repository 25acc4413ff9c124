/**
 * `--capture-thread` on each target: the sinks run in a thread of their own.
 * Records reach JSONL and SQLite (rows in the SQLite file while tapline
 * runs, read with the stock sqlite3 shell), the trace API reads the live
 * database through the thread, rotation is logged, SIGTERM under load leaves
 * one record per answered request, and a capture thread that dies is
 * started again while forwarding goes on.
 */
import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "./harness/client.ts";
import { eventually, marker, removeDir, sleep, tearDown, tempDir } from "./harness/fixture.ts";
import { adminArgs, adminToken, metric, metricsText } from "./harness/plugin-config.ts";
import { readRecords } from "./harness/records.ts";
import { query, tableCounts } from "./harness/sqlite.ts";
import { runtimes } from "./harness/runtimes.ts";
import { sigtermUnderLoad } from "./harness/sigterm-load.ts";
import { runTapline, startTapline, type Tapline } from "./harness/tapline.ts";
import { startUpstream, type Upstream } from "./harness/upstream.ts";

const T = { timeout: 90_000 };
const FAULT_ENV = "TAPLINE_INTERNAL_CAPTURE_THREAD_FAULT";

for (const runtime of runtimes) {
  describe(`${runtime}: --capture-thread`, { timeout: 300_000 }, () => {
    let up: Upstream;
    let dir: string;
    const taps: Tapline[] = [];
    const start = async (extra: string[] = [], env: Record<string, string> = {}, sqlite = true) => {
      const tap = await startTapline(runtime, [
        "--capture-thread",
        ...adminArgs(dir),
        "--flush-interval",
        "20ms",
        ...extra,
        "--proxy",
        `name=api,listen_http=127.0.0.1:0,upstream=${up.url},log_jsonl=${dir}/${sqlite ? `,log_sqlite=${dir}/` : ""}`,
      ], { cwd: dir, env, readyTimeoutMs: 40_000 });
      taps.push(tap);
      return tap;
    };

    before(async () => {
      up = await startUpstream("capture-thread");
    });
    after(async () => {
      for (const tap of taps.slice(0, -1)) if (tap.child.exitCode === null) await tap.stop();
      await tearDown(taps.at(-1), [up], dir);
    });

    test("records reach JSONL and SQLite; rows are in the file within 2 s; the trace API reads them", T, async () => {
      dir = tempDir();
      const tap = await start();
      const tag = marker("thread");
      const total = 50;
      const answers = await Promise.all(
        Array.from({ length: total }, (_, i) => request(tap.url("api", `/thread?tag=${tag}&n=${i}`))),
      );
      assert.ok(answers.every((res) => res.status === 200));
      const sent = Date.now();
      // sql.js writes its file every second: the rows are there while tapline runs.
      const rows = await eventually(
        () =>
          Number(
            query(join(dir, "api.db"), `SELECT count(*) AS n FROM http_entries WHERE req_url LIKE '%${tag}%'`)[0]
              ?.["n"] ??
              0,
          ),
        (n) => n >= total,
        4_000,
      );
      assert.equal(rows, total);
      assert.ok(Date.now() - sent <= 2_500, `rows in the file after ${Date.now() - sent} ms`);
      const records = readRecords(join(dir, "api.jsonl")).filter((r) => r.request.url.includes(tag));
      assert.equal(records.length, total);
      // The live database is in the capture thread: the trace API asks it.
      const auth = { authorization: `Bearer ${adminToken(dir)}` };
      const list = await request(
        `http://127.0.0.1:${tap.adminPort()}/api/traces?limit=5&q=${encodeURIComponent(`~u ${tag}`)}`,
        { headers: auth },
      );
      assert.equal(list.status, 200, list.body.toString("utf8"));
      const traces = JSON.parse(list.body.toString("utf8")).traces as { id: string; url: string }[];
      assert.equal(traces.length, 5);
      assert.ok(traces.every((trace) => trace.url.includes(tag)));
      const one = await request(`http://127.0.0.1:${tap.adminPort()}/api/traces/${traces[0]!.id}`, { headers: auth });
      assert.equal(one.status, 200);
      const detail = JSON.parse(one.body.toString("utf8")) as { record: { id: string; request: { url: string } } };
      assert.equal(detail.record.id, traces[0]!.id);
      assert.ok(detail.record.request.url.includes(tag));
      const text = await metricsText(tap);
      assert.equal(metric(text, "tapline_capture_thread_restarts_total"), 0);
      assert.equal(metric(text, "tapline_records_written_total", "route=api"), 2 * total);
    });

    test("large bodies (sent to the thread as objects) are written whole to JSONL and SQLite", T, async () => {
      const tap = taps.at(-1)!;
      const tag = marker("large");
      const text = await request(tap.url("api", `/bytes/300000?tag=${tag}`));
      const binary = await request(tap.url("api", `/bytes/200000?kind=binary&tag=${tag}`));
      assert.equal(text.status, 200);
      assert.equal(binary.status, 200);
      const small = await request(tap.url("api", `/bytes/100?tag=${tag}`));
      assert.equal(small.status, 200);
      const records = await eventually(
        () => readRecords(join(dir, "api.jsonl")).filter((r) => r.request.url.includes(tag)),
        (found) => found.length >= 3,
      );
      const bodyOf = (path: string) => {
        const record = records.find((r) => r.request.url.startsWith(path))!;
        const body = record.response!.body!;
        return record.response!.body_base64 ? Buffer.from(body, "base64") : Buffer.from(body, "utf8");
      };
      assert.deepEqual(bodyOf("/bytes/300000"), text.body);
      assert.deepEqual(bodyOf("/bytes/200000"), binary.body);
      assert.deepEqual(bodyOf("/bytes/100?"), small.body);
      const rows = await eventually(
        () =>
          query(
            join(dir, "api.db"),
            `SELECT req_url AS url, length(resp_body) AS n, hex(substr(resp_body, 1, 16)) AS head FROM http_entries ` +
              `WHERE req_url LIKE '%${tag}%' ORDER BY req_url`,
          ),
        (found) => found.length >= 3,
        4_000,
      );
      assert.deepEqual(rows.map((row) => Number(row["n"])).sort((a, b) => a - b), [100, 200000, 300000]);
      const binaryRow = rows.find((row) => String(row["url"]).startsWith("/bytes/200000"))!;
      assert.equal(binaryRow["head"], binary.body.subarray(0, 16).toString("hex").toUpperCase());
    });

    test("SIGTERM under load: one record for every answered request, exit 0", T, async () => {
      const tap = taps.at(-1)!;
      const tag = marker("term");
      const { answered, exit } = await sigtermUnderLoad(tap, tag);
      assert.deepEqual(exit, { code: 0, signal: null }, tap.stderrTail());
      assert.ok(answered > 20, `${answered} answered`);
      const records = readRecords(join(dir, "api.jsonl"), true).filter((r) => r.request.url.includes(tag));
      assert.equal(records.length, answered, "a record for every answered request in JSONL");
      assert.equal(tableCounts(join(dir, "api.db")).http_entries, records.length + 53, "and in SQLite");
    });

    test("rotation happens in the thread and is logged by tapline", T, async () => {
      dir = tempDir();
      const tap = await start(["--rotate-size", "4KB", "--retention", "-1"], {}, false);
      const tag = marker("rotate");
      for (let i = 0; i < 40; i++) {
        assert.equal((await request(tap.url("api", `/rotate?tag=${tag}&n=${i}`))).status, 200);
      }
      await tap.waitForLog((line) => line.msg === "rotated", 10_000, "a rotated line");
      await tap.stop();
      const rotated = readdirSync(dir).filter((name) => /^api-.*\.jsonl$/.test(name));
      assert.ok(rotated.length >= 1, `rotated JSONL files: ${readdirSync(dir).join(", ")}`);
      const all = [join(dir, "api.jsonl"), ...rotated.map((name) => join(dir, name))]
        .flatMap((file) => readRecords(file, true))
        .filter((r) => r.request.url.includes(tag));
      assert.equal(all.length, 40, "no record lost across rotations");
    });

    test(
      "a capture file that cannot be opened fails start-up, naming the file and the proxy (exit 69)",
      T,
      async () => {
        const base = tempDir();
        writeFileSync(join(base, "not-a-dir"), "x");
        const file = join(base, "not-a-dir", "api.jsonl");
        const result = await runTapline(
          runtime,
          [
            "--capture-thread",
            "--proxy",
            `name=api,listen_http=127.0.0.1:0,upstream=${up.url},log_jsonl=${file}`,
          ],
          40_000,
          { cwd: base },
        );
        removeDir(base);
        assert.equal(result.code, 69, result.stderr);
        assert.ok(result.stderr.includes(`Failed to open the JSONL log "${file}" of proxy "api"`), result.stderr);
        assert.doesNotMatch(result.stderr, /internal error|\n\s+at /);
      },
    );

    test("a capture thread that dies is started again and forwarding goes on", T, async () => {
      dir = tempDir();
      const tap = await start([], { [FAULT_ENV]: "exit-after:3" }, false);
      const tag = marker("crash");
      let failed = 0;
      for (let i = 0; i < 30; i++) {
        const res = await request(tap.url("api", `/crash?tag=${tag}&n=${i}`));
        if (res.status !== 200) failed++;
        await sleep(30);
      }
      assert.equal(failed, 0, "every request answered while the thread died and restarted");
      await tap.waitForLog(
        (line) => line.msg === "The capture thread stopped; starting it again",
        10_000,
        "the restart",
      );
      const text = await eventually(
        () => metricsText(tap),
        (m) => metric(m, "tapline_capture_thread_restarts_total") === 1,
      );
      assert.equal(metric(text, "tapline_capture_thread_restarts_total"), 1);
      // Requests after the restart are captured again.
      const later = marker("later");
      for (let i = 0; i < 5; i++) {
        assert.equal((await request(tap.url("api", `/later?tag=${later}&n=${i}`))).status, 200);
      }
      const found = await eventually(
        () => readRecords(join(dir, "api.jsonl")).filter((r) => r.request.url.includes(later)).length,
        (n) => n >= 5,
      );
      assert.equal(found, 5);
      // What the dead thread had not confirmed is counted as lost; nothing is written twice.
      const lost = metric(await metricsText(tap), "tapline_capture_dropped_total", "reason=write_error,route=api");
      assert.ok(lost !== undefined, "the write_error counter is served");
      const kept = readRecords(join(dir, "api.jsonl")).filter((r) => r.request.url.includes(tag)).length;
      assert.ok(kept > 0 && kept <= 30, `${kept} of 30 kept`);
      assert.ok(kept + lost >= 30, `${kept} kept + ${lost} counted as lost covers all 30`);
    });
  });
}
