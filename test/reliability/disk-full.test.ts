/**
 * A full disk and a capture file deleted under tapline, on a real 2 MB tmpfs
 * (root mounts it; when mounting is not permitted the test says so and is
 * skipped). Forwarding never stops; every line in the file stays a whole
 * record; records written plus records counted as write errors equal the
 * exchanges; once space returns (the operator deletes the full file),
 * capture resumes in a new file at the same path.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "../conformance/harness/client.ts";
import { proxySpec, removeDir, sleep, tempDir } from "../conformance/harness/fixture.ts";
import { runtimes } from "../conformance/harness/runtimes.ts";
import { startTapline, type Tapline } from "../conformance/harness/tapline.ts";
import { startUpstream, type Upstream } from "../conformance/harness/upstream.ts";

const T = { timeout: 120_000 };
const BODY = "x".repeat(64 * 1024);
const REQUESTS = 60;

/** Mounts a 2 MB tmpfs at `dir`, or returns why it cannot. */
function mountSmallDisk(dir: string): string | undefined {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir], { stdio: "pipe" });
    return undefined;
  } catch (error) {
    return `mount -t tmpfs is not permitted here: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
}

function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

for (const runtime of runtimes) {
  describe(`${runtime}: a full disk`, { timeout: 180_000 }, () => {
    let up: Upstream;
    let tap: Tapline | undefined;
    let dir = "";
    let disk = "";
    let cannotMount: string | undefined;
    const file = () => join(disk, "api.jsonl");
    const metrics = async () => {
      const res = await request(`http://127.0.0.1:${tap!.adminPort()}/_metrics`);
      const text = res.body.toString("utf8");
      return {
        written: sample(text, 'tapline_records_written_total{route="api"}'),
        failed: sample(text, 'tapline_capture_dropped_total{route="api",reason="write_error"}'),
      };
    };
    /** Records in the file; every line must parse. */
    const recordsInFile = () => {
      const text = readFileSync(file(), "utf8");
      assert.ok(text.endsWith("\n"), `the file ends with a whole line (it ends with ...${text.slice(-40)})`);
      const lines = text.split("\n");
      return lines.slice(0, -1).map((line, i) => {
        try {
          return JSON.parse(line) as { request: { url: string } };
        } catch {
          throw new Error(`line ${i + 1} of ${file()} is not a whole record: ${line.slice(0, 80)}...`);
        }
      });
    };
    /** Waits until every exchange is accounted for (written or counted as a write error). */
    const settled = async (total: number) => {
      for (let i = 0; i < 100; i++) {
        const m = await metrics();
        if (m.written + m.failed >= total) return m;
        await sleep(50);
      }
      return await metrics();
    };

    before(async () => {
      up = await startUpstream("disk-full");
      dir = tempDir("tapline-disk-");
      disk = join(dir, "disk");
      mkdirSync(disk);
      cannotMount = mountSmallDisk(disk);
      if (cannotMount) return;
      tap = await startTapline(runtime, [
        "--listen-admin",
        "127.0.0.1:0",
        "--data-dir",
        join(dir, "data"),
        "--flush-interval",
        "20ms",
        "--proxy",
        proxySpec({ name: "api", upstream: up.url, log_jsonl: file() }),
      ]);
    });

    after(async () => {
      try {
        if (tap) {
          const { code } = await tap.stop();
          assert.equal(code, 0, tap.stderrTail());
        }
      } finally {
        await up?.close();
        if (!cannotMount) execFileSync("umount", [disk]);
        removeDir(dir);
      }
    });

    test(
      "forwarding goes on; whole lines only; written + write errors = exchanges; a deleted file is recreated",
      T,
      async (t) => {
        if (cannotMount) return t.skip(cannotMount);
        for (let i = 0; i < REQUESTS; i++) {
          const res = await request(tap!.url("api", `/fill/${i}`), { method: "POST", body: BODY });
          assert.equal(res.status, 200, `request ${i} is forwarded whatever the disk does`);
          // One exchange per batch, so the disk fills part-way through a batch as often as between two.
          await sleep(25);
        }
        const full = await settled(REQUESTS);
        assert.equal(full.written + full.failed, REQUESTS, JSON.stringify(full));
        assert.ok(full.failed > 0, "the disk filled up");
        assert.ok(full.written > 10, `${full.written} records fit`);
        const kept = recordsInFile();
        assert.equal(kept.length, full.written, "records_written counts exactly the records in the file");
        assert.deepEqual(kept.map((r) => r.request.url), kept.map((_, i) => `/fill/${i}`), "the first ones, in order");
        assert.ok(
          tap!.logs.some((l) => l.msg === "Failed to write captured records" && /ENOSPC|space/i.test(String(l.error))),
        );

        // The operator deletes the full file: space returns, and tapline writes to a new file at the path.
        rmSync(file());
        // The sink checks its path at most once a second (JsonlSink liveCheckIntervalMs).
        await sleep(1100);
        for (let i = 0; i < 5; i++) {
          assert.equal((await request(tap!.url("api", `/after/${i}`), { method: "POST", body: "small" })).status, 200);
        }
        const after = await settled(REQUESTS + 5);
        assert.equal(after.written, full.written + 5, JSON.stringify(after));
        assert.deepEqual(recordsInFile().map((r) => r.request.url), [0, 1, 2, 3, 4].map((i) => `/after/${i}`));
      },
    );
  });
}
