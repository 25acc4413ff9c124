/**
 * Graceful shutdown under load: on SIGTERM tapline stops listening, finishes
 * in-flight exchanges, flushes every record and exits 0. Every request that got
 * a complete response has exactly one record; requests that got a connection
 * error never reached the upstream and have none.
 */
import assert from "node:assert/strict";
import { Agent } from "node:http";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { request } from "./harness/client.ts";
import { proxySpec, removeDir, sleep, tempDir } from "./harness/fixture.ts";
import { readRecords, schemaErrors } from "./harness/records.ts";
import { runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import { startUpstream, type Upstream } from "./harness/upstream.ts";

const LOOPS = 8;
const LOAD_BEFORE_SIGTERM_MS = 1_000;
/** Loops give up this long after SIGTERM even if tapline keeps answering. */
const LOOP_DEADLINE_AFTER_SIGTERM_MS = 8_000;

for (const runtime of runtimes) {
  describe(`${runtime}: graceful shutdown`, { timeout: 90_000 }, () => {
    let up: Upstream | undefined;
    let tap: Tapline | undefined;
    let dir: string | undefined;

    after(async () => {
      await tap?.kill();
      await up?.close();
      removeDir(dir);
    });

    test(
      "SIGTERM under load: exit 0, one record per answered request, none for refused ones",
      { timeout: 80_000 },
      async (ctx) => {
        up = await startUpstream("u1");
        dir = tempDir();
        const file = join(dir, "api.jsonl");
        const t = await startTapline(runtime, [
          "--proxy",
          proxySpec({ name: "api", upstream: up.url, log_jsonl: file }),
        ]);
        tap = t;
        const base = t.url("api", "");

        const answered = new Set<string>();
        const odd: string[] = [];
        const errorsBefore: string[] = [];
        const errorsAfter: Array<{ id: string; error: string }> = [];
        let signalled = false;
        let signalledAt = 0;

        const loop = async (n: number): Promise<void> => {
          const agent = new Agent({ keepAlive: true, maxSockets: 1 });
          try {
            for (let seq = 0;; seq++) {
              if (t.exitStatus || (signalled && Date.now() - signalledAt > LOOP_DEADLINE_AFTER_SIGTERM_MS)) return;
              const id = `L${n}-${seq}`;
              const afterSignal = signalled;
              try {
                const res = await request(`${base}/delay?ms=20&id=${id}`, {
                  agent,
                  headers: { "x-request-id": id },
                  timeoutMs: 20_000,
                });
                const echoed = res.status === 200 ? (JSON.parse(res.body.toString("utf8")) as { url?: string }) : {};
                if (res.status === 200 && echoed.url === `/delay?ms=20&id=${id}`) answered.add(id);
                else odd.push(`${id}: status ${res.status} ${res.body.toString("utf8").slice(0, 200)}`);
              } catch (err) {
                const e = err as NodeJS.ErrnoException;
                const text = `${e.code ?? ""} ${e.message}`;
                if (!afterSignal && !signalled) errorsBefore.push(`${id}: ${text}`);
                else errorsAfter.push({ id, error: text });
                if (signalled) return; // the listener is closed: this loop is done
              }
            }
          } finally {
            agent.destroy();
          }
        };

        const loops = Array.from({ length: LOOPS }, (_, n) => loop(n));
        await sleep(LOAD_BEFORE_SIGTERM_MS);
        const answeredAtSignal = answered.size;
        signalled = true;
        signalledAt = Date.now();
        const stopped = t.stop("SIGTERM", 45_000);
        await Promise.all(loops);
        const status = await stopped;

        assert.equal(status.code, 0, `exit code after SIGTERM\n${t.stderrTail()}`);
        assert.ok(t.logs.some((l) => l.msg === "stopped"), `a "stopped" log line\n${t.stderrTail()}`);
        assert.deepEqual(errorsBefore, [], "no request failed before SIGTERM");
        assert.deepEqual(odd, [], "every response was a complete 200 for its own request");
        assert.ok(answeredAtSignal >= 20, `load was running (${answeredAtSignal} answered before SIGTERM)`);

        const records = readRecords(file, true);
        const recordedIds = records.map((r) => r.correlation_id ?? "(none)");
        const recorded = new Set(recordedIds);
        const duplicates = recordedIds.filter((id, i) => recordedIds.indexOf(id) !== i);
        const missing = [...answered].filter((id) => !recorded.has(id));
        const extra = records.filter((r) => !answered.has(r.correlation_id ?? ""));
        const extraText = extra.map((r) =>
          `${r.correlation_id}: status ${r.response?.status}, disconnected ${r.disconnected}, error ${
            JSON.stringify(r.error)
          }, ` +
          `client error ${JSON.stringify(errorsAfter.find((e) => e.id === r.correlation_id)?.error)}`
        );
        const detail = `answered ${answered.size} (${answeredAtSignal} before SIGTERM), records ${records.length}, ` +
          `connection errors after SIGTERM ${errorsAfter.length}\nmissing records: ${
            JSON.stringify(missing.slice(0, 20))
          }\n` +
          `records for unanswered requests:\n${extraText.slice(0, 20).join("\n")}\nduplicates: ${
            JSON.stringify(duplicates.slice(0, 20))
          }`;

        ctx.diagnostic(
          `answered ${answered.size} (${answeredAtSignal} before SIGTERM), records ${records.length}, connection errors after SIGTERM ${errorsAfter.length}`,
        );
        assert.deepEqual(duplicates, [], `no request recorded twice\n${detail}`);
        assert.deepEqual(missing, [], `every answered request has a record\n${detail}`);
        assert.deepEqual(extraText, [], `no record for a request that was not answered\n${detail}`);
        assert.equal(records.length, answered.size, detail);

        // A refused request must not have reached the upstream: in-flight exchanges are finished, not cut.
        const cut = errorsAfter.filter((e) => up!.find(`id=${e.id}`).length > 0);
        assert.deepEqual(
          cut.map((e) => `${e.id}: ${e.error}`),
          [],
          `requests forwarded to the upstream but never answered\n${detail}`,
        );

        const invalid = records.map((r) => schemaErrors(r)).filter((e) => e !== undefined);
        assert.deepEqual(invalid.slice(0, 5), [], "records validate against the schema");
      },
    );
  });
}
