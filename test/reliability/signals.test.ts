/**
 * A signal at any moment of start-up stops tapline cleanly: once any listener
 * is open, SIGTERM always means flush, `stopped`, exit 0. Sent at fixed
 * delays after spawn and at the moment the first of several listeners opens
 * (the window where handlers used to be missing). Before the runtime runs
 * tapline's first module, the operating system's default applies (the
 * process ends with the signal); the test accepts that only when nothing
 * was listening yet.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { proxySpec, removeDir, tempDir } from "../conformance/harness/fixture.ts";
import { runtimes } from "../conformance/harness/runtimes.ts";
import { type ExitStatus, Tapline } from "../conformance/harness/tapline.ts";
import { startUpstream, type Upstream } from "../conformance/harness/upstream.ts";

const T = { timeout: 60_000 };
const DELAYS_MS = [0, 5, 20, 100, 300];

/** Waits for exit (SIGKILL after 15 s, which fails the test). */
async function exitOf(tap: Tapline): Promise<ExitStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), 15_000)));
  const status = await Promise.race([tap.exited, timeout]);
  clearTimeout(timer);
  if (status === "timeout") {
    await tap.kill();
    assert.fail(`${tap.describe()} did not exit within 15 s of SIGTERM\n${tap.stderrTail()}`);
  }
  return status;
}

/** The clean stop, or (only when no listener was open yet) the default end by the signal. */
function assertCleanStop(tap: Tapline, status: ExitStatus, when: string): void {
  const listened = tap.logs.some((line) => line.msg === "listening");
  if (status.signal === "SIGTERM" && !listened) return;
  assert.equal(status.code, 0, `${when}: exit ${status.code ?? status.signal}\n${tap.stderrTail()}`);
  assert.ok(tap.logs.some((line) => line.msg === "stopped"), `${when}: a "stopped" line\n${tap.stderrTail()}`);
}

for (const runtime of runtimes) {
  describe(`${runtime}: signals during start-up`, { timeout: 180_000 }, () => {
    let up: Upstream;
    let dir = "";
    const args = () => [
      "--listen-admin",
      "127.0.0.1:0",
      "--data-dir",
      join(dir, "data"),
      ...["a", "b", "c"].flatMap((name) => [
        "--proxy",
        proxySpec({
          name,
          upstream: up.url,
          log_jsonl: join(dir, `${name}.jsonl`),
          log_sqlite: join(dir, `${name}.db`),
        }),
      ]),
    ];

    before(async () => {
      up = await startUpstream("signals");
      dir = tempDir("tapline-signals-");
    });
    after(async () => {
      await up?.close();
      removeDir(dir);
    });

    for (const delay of DELAYS_MS) {
      test(`SIGTERM ${delay} ms after spawn stops cleanly`, T, async () => {
        const tap = new Tapline(runtime, args());
        await new Promise<void>((resolve) => tap.child.once("spawn", () => resolve()));
        await new Promise((resolve) => setTimeout(resolve, delay));
        tap.child.kill("SIGTERM");
        assertCleanStop(tap, await exitOf(tap), `${delay} ms`);
      });
    }

    test("SIGTERM when the first of several listeners opens: flush, stopped, exit 0", T, async () => {
      const tap = new Tapline(runtime, args());
      await tap.waitForLog((line) => line.msg === "listening", 30_000, "the first listening line");
      tap.child.kill("SIGTERM");
      const status = await exitOf(tap);
      assert.equal(status.code, 0, `exit ${status.code ?? status.signal}\n${tap.stderrTail()}`);
      assert.ok(tap.logs.some((line) => line.msg === "stopped"), tap.stderrTail());
    });
  });
}
