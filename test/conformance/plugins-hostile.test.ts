/**
 * Hostile and broken plugins through one tapline process per runtime: an
 * infinite loop, unbounded recursion, a loop allocating until memory runs
 * out, attempts to reach the host, a catastrophic regular expression in a
 * fail-closed redaction, and a throwing fail-closed request hook. Traffic must
 * keep flowing within the deadline, memory must stay bounded, nothing may
 * escape the sandbox, failures must be counted, and nothing unredacted may
 * reach disk.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { CustomRecord } from "../../src/shared/record.ts";
import { request } from "./harness/client.ts";
import { marker, sleep, tearDown, tempDir } from "./harness/fixture.ts";
import { databaseText, metric, metricsText, metricSum, writeConfig, writePlugins } from "./harness/plugin-config.ts";
import { type PluginUpstream, startPluginUpstream } from "./harness/plugin-upstream.ts";
import { asCapture, assertAllValid, readRecords, recordFor, waitForRecords } from "./harness/records.ts";
import { runtimes } from "./harness/runtimes.ts";
import { query, requireSqlite3 } from "./harness/sqlite.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";

const T = { timeout: 60_000 };
const WAIT_MS = 5_000;
const SQLITE_WAIT_MS = 12_000;
const LOOP_HOOK_MS = 20;
const LOOP_FAILURES = 5;
const OOM_REQUESTS = 30;
const MEMORY_CAP = 24 * 1024 * 1024;
/**
 * Allowed growth of tapline's resident memory (peak, sampled after each
 * request) over OOM_REQUESTS out-of-memory requests. Each rebuild makes a new
 * WebAssembly memory of up to MEMORY_CAP and the old one is left to the
 * garbage collector: Node and Bun reclaim them promptly, Deno lazily (peaks
 * of ~230 MiB above the baseline were measured before it collects). A leak
 * would grow by OOM_REQUESTS * MEMORY_CAP (720 MiB).
 */
const RSS_GROWTH_LIMIT = (runtime: string) => (runtime === "deno" ? 384 : 128) * 1024 * 1024;

/** Every plugin but one patches a header on normal requests, so a test can see that it still runs. */
const LOOP_PLUGIN = `
export const manifest = { name: "loop", version: "1.0.0", description: "Spins forever on /loop", hooks: ["onRequest"] };
export function onRequest(req) {
  if (req.path.startsWith("/loop")) { for (;;) {} }
  return { headers: { "x-loop-plugin": "alive" } };
}
`;

const RECURSE_PLUGIN = `
export const manifest = { name: "recurse", version: "1.0.0", description: "Recurses forever on /rec", hooks: ["onRequest"] };
export function onRequest(req) {
  if (req.path.startsWith("/rec")) { const f = () => f(); f(); }
  return { headers: { "x-rec-plugin": "alive" } };
}
`;

const MEMORY_PLUGIN = `
export const manifest = { name: "hog", version: "1.0.0", description: "Allocates until memory runs out on /oom", hooks: ["onRequest"] };
export function onRequest(req) {
  if (req.path.startsWith("/oom")) {
    const keep = [];
    for (let i = 0; ; i++) keep.push("s" + i);
  }
  return { headers: { "x-mem-plugin": "alive" } };
}
`;

/** Looks for every way out it can think of, from a mutate hook and from onCapture, and reports. */
const ESCAPE_PLUGIN = `
export const manifest = { name: "escape", version: "1.0.0", description: "Probes the sandbox", hooks: ["onRequest", "onCapture"] };
let importOutcome = "none";
function probe(hook) {
  const out = { hook };
  out.require = typeof require;
  out.process = typeof process;
  out.Deno = typeof Deno;
  out.Bun = typeof Bun;
  out.fetch = typeof fetch;
  out.Date = typeof Date;
  out.XMLHttpRequest = typeof XMLHttpRequest;
  out.WebSocket = typeof WebSocket;
  out.WebAssembly = typeof WebAssembly;
  out.std = typeof std;
  out.os = typeof os;
  out.setTimeout = typeof setTimeout;
  try {
    const g = globalThis.constructor.constructor("return this")();
    out.ctorGlobal = [typeof g.process, typeof g.require, typeof g.Deno, typeof g.Bun, typeof g.fetch].join(",");
  } catch (e) { out.ctorGlobal = "threw: " + e; }
  try { out.fnGlobalProcess = typeof Function("return this")().process; } catch (e) { out.fnGlobalProcess = "threw: " + e; }
  try { Function("return process")(); out.fnProcess = "reached"; } catch (e) { out.fnProcess = "threw"; }
  try { eval("require('fs')"); out.evalRequire = "reached"; } catch (e) { out.evalRequire = "threw"; }
  // Hooks are synchronous: a promise settles, if ever, after the call. The
  // outcome of the previous call's import() is reported by the next call.
  out.earlierImport = importOutcome;
  try {
    const p = import("node:fs");
    out.importCall = "promise";
    importOutcome = "pending";
    p.then((m) => {
      importOutcome = "resolved";
      emit({ hook, importResolved: Object.keys(m) });
    }, (e) => {
      importOutcome = "rejected: " + e;
    });
  } catch (e) { out.importCall = "threw: " + e; }
  out.globals = Object.getOwnPropertyNames(globalThis).sort();
  return out;
}
export function onRequest(req) {
  if (req.path.startsWith("/escape")) emit(probe("onRequest"));
  return undefined;
}
export function onCapture(record) {
  if (record.type === "http" && record.request.url.startsWith("/escape")) emit(probe("onCapture"));
  return undefined;
}
`;

const THROW_PLUGIN = `
export const manifest = { name: "thrower", version: "1.0.0", description: "Throws on every request", hooks: ["onRequest"] };
export function onRequest(req) { throw new Error("thrower refuses " + req.path); }
`;

/** Global names that must never be visible inside a plugin. */
const FORBIDDEN_GLOBALS = [
  "require",
  "process",
  "Deno",
  "Bun",
  "fetch",
  "Date",
  "XMLHttpRequest",
  "WebSocket",
  "WebAssembly",
  "std",
  "os",
  "setTimeout",
];

const PROXIES = ["loop", "rec", "mem", "esc", "redfail", "closed", "evilpf", "eviltr", "evilrd"] as const;

/** `(a+)+$` on 30 a's and a "!": exponential on a backtracking engine, instant on host.patterns' linear one. */
const CATASTROPHIC = "(a+)+$";
const CATASTROPHIC_TEXT = `${"a".repeat(30)}!`;
/**
 * The catastrophic-pattern plugins' deadlines. The default 10 ms hook deadline was missed once on a loaded CI machine
 * by a linear-time call (the plugin then skipped that request, fail open). A backtracking engine would need ~2^30
 * steps, minutes in QuickJS, so 1 s still tells the engines apart: the test asserts no timeout and a 2 s total.
 */
const EVIL_LIMITS = { hook_ms: 1000, capture_ms: 1000 };

/** VmRSS of a process in bytes, from /proc. */
function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`No VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** GET through `route`, returning the response and its wall time in ms. */
async function timed(tap: Tapline, route: string, path: string): Promise<{ status: number; ms: number; body: string }> {
  const start = performance.now();
  const res = await request(tap.url(route, path), { timeoutMs: WAIT_MS });
  return { status: res.status, ms: performance.now() - start, body: res.body.toString("utf8") };
}

for (const runtime of runtimes) {
  describe(`${runtime}: hostile plugins`, { timeout: 180_000 }, () => {
    let up: PluginUpstream;
    let tap: Tapline;
    let dir: string;
    let db: string;
    const jsonl = (route: string) => join(dir, `${route}.jsonl`);

    before(async () => {
      up = await startPluginUpstream();
      dir = tempDir("tapline-hostile-");
      db = join(dir, "redfail.db");
      writePlugins(dir, {
        "loop.js": LOOP_PLUGIN,
        "recurse.js": RECURSE_PLUGIN,
        "hog.js": MEMORY_PLUGIN,
        "escape.js": ESCAPE_PLUGIN,
        "thrower.js": THROW_PLUGIN,
      });
      const config = writeConfig(dir, "tapline.yaml", {
        listen_admin: "127.0.0.1:0",
        flush_interval: "50ms",
        proxies: PROXIES.map((name) => ({
          name,
          listen_http: "127.0.0.1:0",
          upstream: up.url,
          log_jsonl: jsonl(name),
          ...(name === "redfail" ? { log_sqlite: db } : {}),
        })),
        plugins: [
          {
            id: "loop",
            use: "./loop.js",
            routes: ["loop"],
            fail: "open",
            limits: { hook_ms: LOOP_HOOK_MS, failures: LOOP_FAILURES },
          },
          { id: "rec", use: "./recurse.js", routes: ["rec"], fail: "open", limits: { hook_ms: 500 } },
          {
            id: "hog",
            use: "./hog.js",
            routes: ["mem"],
            fail: "open",
            limits: { memory: MEMORY_CAP, hook_ms: 3000, failures: 1000 },
          },
          { id: "escape", use: "./escape.js", routes: ["esc"], fail: "open" },
          {
            // Replacing each "q" with 1,000 characters makes host.patterns refuse
            // the result of 20,000 of them (over 16 Mi characters): redaction fails, closed.
            id: "redfail",
            use: "redaction",
            routes: ["redfail"],
            config: { custom: [{ name: "boom", pattern: "q", replacement: "x".repeat(1000) }] },
            limits: { capture_ms: 50 },
          },
          // EVIL_LIMITS: a deadline a loaded machine cannot miss by accident, still far below what backtracking takes.
          {
            id: "evilpf",
            use: "path-filter",
            routes: ["evilpf"],
            config: { exclude: [CATASTROPHIC] },
            limits: EVIL_LIMITS,
          },
          {
            id: "eviltr",
            use: "text-replace",
            routes: ["eviltr"],
            config: { rules: [{ match: `/${CATASTROPHIC}/`, replace: "b", in: ["request.body"] }] },
            limits: EVIL_LIMITS,
          },
          {
            id: "evilrd",
            use: "redaction",
            routes: ["evilrd"],
            config: { headers: [], patterns: ["email"], custom: [{ name: "evil", pattern: CATASTROPHIC }] },
            limits: EVIL_LIMITS,
          },
          { id: "thrower", use: "./thrower.js", routes: ["closed"], fail: "closed" },
        ],
      });
      tap = await startTapline(runtime, ["--config", config]);
    });

    after(() => tearDown(tap, [up], dir));

    test(
      "an infinite loop in onRequest: requests pass within the deadline, then the plugin is disabled",
      T,
      async () => {
        const m = marker("loop");
        const warm = await timed(tap, "loop", `/warm?m=${m}`);
        assert.equal(warm.status, 200);
        assert.equal(up.one(`/warm?m=${m}`).headers["x-loop-plugin"], "alive", "the plugin runs before it spins");
        const before = await metricsText(tap);
        const timeoutsBefore = metric(before, "tapline_plugin_timeouts_total", "plugin=loop") ?? 0;
        assert.equal(metric(before, "tapline_plugin_disabled", "plugin=loop"), 0);
        for (let i = 0; i < LOOP_FAILURES; i++) {
          const r = await timed(tap, "loop", `/loop?m=${m}&i=${i}`);
          assert.equal(r.status, 200, `loop request ${i} is forwarded (fail open): ${r.body}`);
          assert.deepEqual(JSON.parse(r.body), { method: "GET", url: `/loop?m=${m}&i=${i}` });
          assert.ok(r.ms < LOOP_HOOK_MS + 500, `loop request ${i} took ${r.ms.toFixed(0)} ms`);
        }
        assert.equal(up.find(`/loop?m=${m}`).length, LOOP_FAILURES, "the upstream saw every loop request");
        const afterText = await metricsText(tap);
        assert.equal(
          metric(afterText, "tapline_plugin_timeouts_total", "plugin=loop"),
          timeoutsBefore + LOOP_FAILURES,
          "every spin is a counted timeout",
        );
        assert.equal(metric(afterText, "tapline_plugin_disabled", "plugin=loop"), 1, "disabled after the failures");
        for (let i = 0; i < 3; i++) {
          const r = await timed(tap, "loop", `/after?m=${m}&i=${i}`);
          assert.equal(r.status, 200, "traffic still flows once the plugin is disabled");
          assert.ok(r.ms < 500, `request after disabling took ${r.ms.toFixed(0)} ms`);
        }
        assert.equal(
          up.one(`/after?m=${m}&i=0`).headers["x-loop-plugin"],
          undefined,
          "a disabled plugin is not called",
        );
      },
    );

    test("deep recursion in onRequest: requests pass, errors are counted", T, async () => {
      const m = marker("rec");
      const before = await metricsText(tap);
      const failuresBefore = (metric(before, "tapline_plugin_errors_total", "plugin=rec") ?? 0) +
        (metric(before, "tapline_plugin_oom_total", "plugin=rec") ?? 0);
      for (let i = 0; i < 3; i++) {
        const r = await timed(tap, "rec", `/rec?m=${m}&i=${i}`);
        assert.equal(r.status, 200, `recursion request ${i} is forwarded: ${r.body}`);
        assert.ok(r.ms < 500 + 500, `recursion request ${i} took ${r.ms.toFixed(0)} ms`);
      }
      const afterText = await metricsText(tap);
      const failures = (metric(afterText, "tapline_plugin_errors_total", "plugin=rec") ?? 0) +
        (metric(afterText, "tapline_plugin_oom_total", "plugin=rec") ?? 0);
      assert.equal(failures - failuresBefore, 3, `errors/oom of rec:\n${afterText}`);
      assert.equal(metric(afterText, "tapline_plugin_disabled", "plugin=rec"), 0);
      const ok = await timed(tap, "rec", `/fine?m=${m}`);
      assert.equal(ok.status, 200);
      assert.equal(up.one(`/fine?m=${m}`).headers["x-rec-plugin"], "alive", "the plugin works again");
      assert.equal(tap.exitStatus, undefined, "tapline is alive");
    });

    test("a loop allocating small strings: requests pass, OOM counted, RSS bounded, sandbox rebuilt", T, async () => {
      const m = marker("oom");
      const pid = tap.child.pid!;
      // One round first so lazily grown pools count in the baseline.
      assert.equal((await timed(tap, "mem", `/oom?m=${m}&i=warm`)).status, 200);
      const rssBefore = rssOf(pid);
      const textBefore = await metricsText(tap);
      const oomBefore = metric(textBefore, "tapline_plugin_oom_total", "plugin=hog") ?? 0;
      const unavailableBefore = metric(textBefore, "tapline_plugin_unavailable_total", "plugin=hog") ?? 0;
      let slowest = 0;
      let rssAfter = rssBefore;
      for (let i = 0; i < OOM_REQUESTS; i++) {
        const r = await timed(tap, "mem", `/oom?m=${m}&i=${i}`);
        assert.equal(r.status, 200, `oom request ${i} is forwarded: ${r.body}`);
        slowest = Math.max(slowest, r.ms);
        rssAfter = Math.max(rssAfter, rssOf(pid));
      }
      const text = await metricsText(tap);
      const oom = metric(text, "tapline_plugin_oom_total", "plugin=hog") ?? 0;
      const unavailable = metric(text, "tapline_plugin_unavailable_total", "plugin=hog") ?? 0;
      // Each request either runs out of memory or arrives while the sandbox is rebuilt.
      assert.ok(oom - oomBefore >= 1, `tapline_plugin_oom_total grew by ${oom - oomBefore}:\n${text}`);
      assert.equal(
        oom - oomBefore + unavailable - unavailableBefore,
        OOM_REQUESTS,
        `oom grew by ${oom - oomBefore}, unavailable by ${unavailable - unavailableBefore}`,
      );
      assert.ok(
        rssAfter - rssBefore < RSS_GROWTH_LIMIT(runtime),
        `RSS grew from ${(rssBefore / 2 ** 20).toFixed(0)} MiB to a peak of ${(rssAfter / 2 ** 20).toFixed(0)} MiB`,
      );
      // The sandbox is rebuilt in the background after running out of memory;
      // requests meanwhile pass without the plugin.
      let patched = false;
      const deadline = Date.now() + WAIT_MS;
      for (let i = 0; !patched && Date.now() < deadline; i++) {
        const path = `/fine?m=${m}&i=${i}`;
        const ok = await timed(tap, "mem", path);
        assert.equal(ok.status, 200);
        patched = up.requests.find((r) => r.url === path)?.headers["x-mem-plugin"] === "alive";
        if (!patched) await sleep(50);
      }
      assert.ok(patched, `the rebuilt sandbox runs the plugin again within ${WAIT_MS} ms`);
      assert.equal(metric(text, "tapline_plugin_disabled", "plugin=hog"), 0);
      process.stderr.write(
        `# ${runtime}: OOM requests slowest ${slowest.toFixed(0)} ms, RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> peak ${
          (rssAfter / 2 ** 20).toFixed(0)
        } MiB\n`,
      );
    });

    test("escape attempts find nothing of the host", T, async () => {
      const m = marker("esc");
      const res = await request(tap.url("esc", `/escape?m=${m}`), { timeoutMs: WAIT_MS });
      assert.equal(res.status, 200);
      const record = await recordFor(jsonl("esc"), m, WAIT_MS);
      const probes = await waitForRecords(jsonl("esc"), (r) => {
        const c = asCapture(r);
        return c.type === "custom" && c.connection_id === record.id &&
          typeof (c.data as { globals?: unknown }).globals === "object";
      }, 2);
      await sleep(300);
      const customs = readRecords(jsonl("esc")).map(asCapture).filter((c): c is CustomRecord =>
        c.type === "custom" && c.connection_id === record.id
      );
      for (const probe of probes.map((p) => (asCapture(p) as CustomRecord).data as Record<string, unknown>)) {
        const hook = String(probe["hook"]);
        for (const name of FORBIDDEN_GLOBALS) {
          assert.equal(probe[name], "undefined", `${hook}: typeof ${name}`);
          assert.ok(!(probe["globals"] as string[]).includes(name), `${hook}: globalThis has ${name}`);
        }
        assert.equal(
          probe["ctorGlobal"],
          "undefined,undefined,undefined,undefined,undefined",
          `${hook}: constructor trick`,
        );
        assert.equal(probe["fnGlobalProcess"], "undefined", `${hook}: Function('return this')().process`);
        assert.equal(probe["fnProcess"], "threw", `${hook}: Function('return process')()`);
        assert.equal(probe["evalRequire"], "threw", `${hook}: eval("require('fs')")`);
        const importCall = String(probe["importCall"]);
        assert.ok(importCall === "promise" || importCall.startsWith("threw"), `${hook}: import() gave ${importCall}`);
        const earlier = String(probe["earlierImport"]);
        assert.ok(
          earlier === "none" || earlier === "pending" || earlier.startsWith("rejected"),
          `${hook}: an earlier import() ended ${earlier}`,
        );
      }
      const byHook = new Map(probes.map((p) => {
        const data = (asCapture(p) as CustomRecord).data as Record<string, unknown>;
        return [String(data["hook"]), data];
      }));
      assert.deepEqual([...byHook.keys()].sort(), ["onCapture", "onRequest"], "both hooks reported");
      if (byHook.get("onRequest")!["importCall"] === "promise") {
        assert.notEqual(byHook.get("onCapture")!["earlierImport"], "none", "onCapture saw onRequest's import()");
      }
      const resolved = customs.filter((c) => "importResolved" in (c.data as object));
      assert.deepEqual(resolved, [], "a dynamic import never resolves");
    });

    test("a catastrophic user pattern in each bundled plugin answers within the plugin's deadline", T, async () => {
      const m = marker("evil");
      const post = (route: string, path: string, body: string) =>
        request(tap.url(route, path), {
          method: "POST",
          body,
          headers: { "content-type": "text/plain" },
          timeoutMs: WAIT_MS,
        });
      // path-filter: the path does not end in a's, so the exchange is captured.
      const start = performance.now();
      const pf = await timed(tap, "evilpf", `/${CATASTROPHIC_TEXT}?m=${m}`);
      assert.equal(pf.status, 200);
      const excluded = await timed(tap, "evilpf", `/aaaa?m=${m}`);
      assert.equal(excluded.status, 200);
      // text-replace: nothing to replace in the evil body; "aaa" is replaced.
      const tr = await post("eviltr", `/reflect?m=${m}-tr`, CATASTROPHIC_TEXT);
      assert.equal(tr.status, 200);
      assert.equal(up.one(`${m}-tr`).body.toString("utf8"), CATASTROPHIC_TEXT);
      await post("eviltr", `/reflect?m=${m}-tr2`, "aaa");
      const replaced = up.one(`${m}-tr2`).body.toString("utf8");
      if (replaced !== "b") {
        // Say why the plugin did not replace it: a timeout, an error, or a sandbox being rebuilt.
        const lines = (await metricsText(tap)).split("\n").filter((l) => l.includes('plugin="eviltr"'));
        assert.fail(`text-replace left ${JSON.stringify(replaced)}; its metrics:\n${lines.join("\n")}`);
      }
      // redaction: the evil record is written, its e-mail redacted, its a's left alone.
      const rd = await post("evilrd", `/reflect?m=${m}-rd`, `${CATASTROPHIC_TEXT} mail gina@example.com`);
      assert.equal(rd.status, 200);
      assert.ok(performance.now() - start < 2000, `the exchanges took ${performance.now() - start} ms`);
      const record = await recordFor(jsonl("evilrd"), `${m}-rd`, WAIT_MS);
      assert.equal(record.request.body, `${CATASTROPHIC_TEXT} mail [REDACTED:email]`);
      const pfRecord = await recordFor(jsonl("evilpf"), `${CATASTROPHIC_TEXT}?m=${m}`, WAIT_MS);
      assert.equal(pfRecord.response?.status, 200);
      const text = await metricsText(tap);
      for (const plugin of ["evilpf", "eviltr", "evilrd"]) {
        assert.equal(metric(text, "tapline_plugin_timeouts_total", `plugin=${plugin}`) ?? 0, 0, `${plugin} timed out`);
        assert.equal(metric(text, "tapline_plugin_errors_total", `plugin=${plugin}`) ?? 0, 0, `${plugin} failed`);
      }
      assert.equal(
        readRecords(jsonl("evilpf")).filter((r) => r.request?.url === `/aaaa?m=${m}`).length,
        0,
        "the path the pattern matches is excluded",
      );
    });

    test("redaction failing closed writes nothing unredacted", T, async () => {
      requireSqlite3();
      const m = marker("redfail");
      const before = await metricsText(tap);
      const droppedBefore = metricSum(before, "tapline_capture_dropped_total", "reason=plugin");
      // Refusing a 20 Mi result is an error, or a timeout when building it up to the limit took past capture_ms.
      const failures = (text: string) =>
        (metric(text, "tapline_plugin_errors_total", "plugin=redfail") ?? 0) +
        (metric(text, "tapline_plugin_timeouts_total", "plugin=redfail") ?? 0);
      const failuresBefore = failures(before);
      const evil = `${"q".repeat(20_000)} mail erin@example.com`;
      const start = performance.now();
      const res = await request(tap.url("redfail", `/reflect?m=${m}-evil`), {
        method: "POST",
        body: evil,
        headers: { "content-type": "text/plain" },
        timeoutMs: WAIT_MS,
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString("utf8"), evil, "the client got its response normally");
      assert.ok(performance.now() - start < 1000, "the exchange does not wait for the capture");
      assert.equal(up.one(`${m}-evil`).body.toString("utf8"), evil);

      // A later record that redacts fine: once it is on disk, the evil one would be too.
      const control = await request(tap.url("redfail", `/reflect?m=${m}-ok`), {
        method: "POST",
        body: "mail frank@example.com",
        headers: { "content-type": "text/plain" },
        timeoutMs: WAIT_MS,
      });
      assert.equal(control.status, 200);
      const record = await recordFor(jsonl("redfail"), `${m}-ok`, WAIT_MS);
      assert.equal(record.request.body, "mail [REDACTED:email]");
      const deadline = Date.now() + SQLITE_WAIT_MS;
      let rows: Array<Record<string, unknown>> = [];
      while (Date.now() < deadline) {
        try {
          rows = query(db, `SELECT id FROM http_entries WHERE req_url LIKE '%${m}-ok%'`);
        } catch {
          rows = [];
        }
        if (rows.length > 0) break;
        await sleep(100);
      }
      assert.equal(rows.length, 1, `the control record reached ${db}`);
      assert.equal(readRecords(jsonl("redfail")).filter((r) => r.request?.url.includes(`${m}-evil`)).length, 0);
      const file = readFileSync(jsonl("redfail"), "utf8");
      const dbText = databaseText(db);
      for (const secret of ["erin@example.com", "frank@example.com", `${m}-evil`]) {
        assert.ok(!file.includes(secret), `JSONL holds "${secret}"`);
        assert.ok(!dbText.includes(secret), `SQLite holds "${secret}"`);
      }
      const afterText = await metricsText(tap);
      assert.ok(
        metricSum(afterText, "tapline_capture_dropped_total", "reason=plugin") >= droppedBefore + 1,
        `tapline_capture_dropped_total{reason="plugin"}:\n${afterText}`,
      );
      assert.ok(
        failures(afterText) >= failuresBefore + 1,
        "the redaction failure is counted",
      );
    });

    test("fail: closed on a throwing onRequest answers 502 and never reaches the upstream", T, async () => {
      const m = marker("closed");
      for (let i = 0; i < 2; i++) {
        const r = await timed(tap, "closed", `/anything?m=${m}&i=${i}`);
        assert.equal(r.status, 502, `request ${i}: ${r.body}`);
      }
      assert.equal(up.find(m).length, 0, "the upstream saw nothing");
      const text = await metricsText(tap);
      assert.ok((metric(text, "tapline_plugin_requests_refused_total", "plugin=thrower") ?? 0) >= 2, text);
      assert.ok((metric(text, "tapline_plugin_errors_total", "plugin=thrower") ?? 0) >= 2, text);
    });

    test("the process is healthy and every record validates against the schema", T, async () => {
      const health = await request(`http://127.0.0.1:${tap.adminPort()}/_health`, { timeoutMs: WAIT_MS });
      assert.equal(health.status, 200);
      assert.equal(tap.exitStatus, undefined);
      assert.ok(assertAllValid(PROXIES.map(jsonl)) >= 10);
    });
  });
}
