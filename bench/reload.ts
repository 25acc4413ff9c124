/**
 * The plugin reload benchmark: 1 KiB JSON GET through tapline with JSONL
 * capture and a path-filter plugin, on Node, Deno and Bun, in alternating
 * rounds on one process per runtime: A with no reloads, B with the other
 * plugin set PUT to the admin API once a second. Reports the best round of
 * each, B/A, failed requests and every reload's status. Writes
 * bench/results/reload-latest.md.
 *
 * Usage (after `npx tsc -p tsconfig.json`; bench/reload.sh does both):
 *   node dist/bench/reload.js [--runtimes node,deno,bun] [--rounds 3]
 *     [--duration 10] [--warmup 3] [--connections 32] [--proxy-core 1]
 *     [--load-core 0] [--port 18580] [--quiet-wait 5] [--out FILE] [--keep]
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  benchVersions,
  listOption,
  type LoadOptions,
  loadOptions,
  loadOptionSpecs,
  numberOption,
  repoRoot,
  reportStamp,
  requireTools,
  scratchDir,
  writeReport,
} from "./env.ts";
import { countRecords, forEachLineHead, truncateRecords, waitDrained } from "./jsonl-stats.ts";
import { measureWrk } from "./measure.ts";
import { upstreamConfig } from "./nginx.ts";
import { RUNTIME_NAMES, type RuntimeName } from "./plugins-report.ts";
import { memoryBytes, processTree } from "./procstat.ts";
import {
  assertPortFree,
  type Service,
  sleep,
  startService,
  stopService,
  waitForPortFree,
  waitListening,
} from "./procs.ts";
import { waitQuiet } from "./quiet.ts";
import { type ReloadCall, type ReloadRuntimeResult, renderReloadReport, type RoundResult } from "./reload-report.ts";
import { captureCounters } from "./stream-records.ts";
import { stoppedCounters } from "./stopped.ts";
import { taplineCommand } from "./targets.ts";
import { runWrk, type WrkOptions } from "./wrk.ts";

/** The path the upstream serves as 1024 bytes of application/json (bench/nginx.ts). */
const PATH = "/1k.json";

/**
 * The two plugin sets B rounds alternate between: path-filter as an operator
 * would retune it (the quickstart's "API calls only" filter, then a narrower
 * one). Both capture GET /1k.json, so every request is recorded whichever set
 * served it, and a record's `plugin_generation` tells which one did.
 */
const SETS = [
  { plugins: [{ id: "filter", use: "path-filter", config: { include: ["^/"], methods: ["GET", "HEAD"] } }] },
  {
    plugins: [{
      id: "filter",
      use: "path-filter",
      config: {
        exclude: ["\\.(css|js|map|png|jpe?g|gif|svg|ico|woff2?)$", "^/healthz?$"],
        methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
      },
    }],
  },
] as const;

/** One reload a second, the first half a second into the run. */
const RELOAD_EVERY_MS = 1000;

interface Options extends LoadOptions {
  runtimes: RuntimeName[];
  rounds: number;
}

function parseOptions(root: string): Options {
  const { values } = parseArgs({
    options: {
      ...loadOptionSpecs({ port: "18580", out: join(root, "bench/results/reload-latest.md"), quietWait: "5" }),
      runtimes: { type: "string", default: RUNTIME_NAMES.join(",") },
      rounds: { type: "string", default: "3" },
    },
  });
  return {
    runtimes: listOption(values.runtimes, RUNTIME_NAMES, "runtime"),
    rounds: Math.round(numberOption("rounds", values.rounds, 1)),
    // Under 2 s a B round would hold at most one reload.
    ...loadOptions(values, 2),
  };
}

function log(msg: string): void {
  process.stderr.write(`[reload ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** What every runtime shares: options, where things are, the upstream and the admin token. */
interface Context {
  opts: Options;
  root: string;
  dir: string;
  upstreamPort: number;
  upstreamPids: number[];
  /** Sent as `Authorization: Bearer` on every admin call (the admin API will require it). */
  token: string;
  /** Whether this build's tapline takes --data-dir (else its cwd's ./data is used). */
  dataDirFlag: boolean;
}

/** A tapline process and how to reach its admin API. */
interface Running {
  service: Service;
  pids: number[];
  logDir: string;
  adminPort: number;
  auth: Record<string, string>;
  /** Index in SETS of the running set: a reload PUTs the other one. */
  set: number;
}

/** One admin API call: its status, text and JSON answer ({} when the answer is not a JSON object). */
async function admin(
  target: Running,
  method: "GET" | "PUT",
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${target.adminPort}${path}`, {
    method,
    headers: { ...target.auth, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) json = parsed as Record<string, unknown>;
  } catch {
    // Metrics and some error pages are not JSON; the status and text say enough.
  }
  return { status: res.status, text, json };
}

/**
 * Start tapline for `runtime` with set A from a config file, the admin
 * token in its environment, and its data directory (where a reload saves the
 * set for the next start) in the scratch directory: never the checkout's
 * ./data, which another benchmark's tapline would then restore.
 */
async function startTapline(ctx: Context, runtime: RuntimeName): Promise<Running> {
  const { opts, root, dir, upstreamPort, token } = ctx;
  const home = join(dir, runtime);
  const logDir = join(home, "logs");
  mkdirSync(home, { recursive: true });
  const config = join(home, "tapline.yaml");
  writeFileSync(config, JSON.stringify(SETS[0]) + "\n"); // JSON is YAML
  const adminPort = opts.port + 2;
  const spec = `name=bench,listen_http=127.0.0.1:${opts.port},upstream=http://127.0.0.1:${upstreamPort},` +
    `log_jsonl=${logDir}/`;
  const [cmd, args] = taplineCommand(runtime, root, spec);
  const service = startService(
    `tapline (${runtime})`,
    cmd,
    [
      ...args,
      "--listen-admin",
      `127.0.0.1:${adminPort}`,
      "--config",
      config,
      ...(ctx.dataDirFlag ? ["--data-dir", join(home, "data")] : []),
    ],
    { core: opts.proxyCore, cwd: home, env: { ...process.env, TAPLINE_ADMIN_TOKEN: token } },
  );
  await service.waitFor(`"msg":"ready"`, 60_000);
  await waitListening(service, opts.port, 10_000);
  return {
    service,
    pids: processTree(service.pid),
    logDir,
    adminPort,
    auth: { Authorization: `Bearer ${token}` },
    set: 0,
  };
}

/**
 * Distinct `plugin_generation` values of the records under `logDir`: whole
 * lines (it follows the bodies), in every file (tapline rotates bench.jsonl
 * at 100MB written, truncations notwithstanding).
 */
function recordGenerations(logDir: string): number[] {
  const seen = new Set<number>();
  for (const name of existsSync(logDir) ? readdirSync(logDir) : []) {
    if (!name.endsWith(".jsonl")) continue;
    forEachLineHead(join(logDir, name), 1 << 16, (line) => {
      const m = /"plugin_generation":(\d+)/.exec(line);
      if (m) seen.add(Number(m[1]));
    });
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * Before measuring: a request through tapline is answered and captured with
 * its plugin generation, and a reload to set B and back answers 200 with the
 * next generations, so a broken reload fails here instead of in the numbers.
 * This also builds a set twice before the first B round is timed.
 */
async function check(ctx: Context, target: Running, what: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${ctx.opts.port}${PATH}`, { signal: AbortSignal.timeout(10_000) });
  const body = await res.text();
  if (res.status !== 200 || body.length !== 1024) {
    throw new Error(`${what} answered GET ${PATH} with ${res.status}, ${body.length} bytes`);
  }
  for (const until = Date.now() + 10_000; countRecords(target.logDir).records === 0 && Date.now() < until;) {
    await sleep(50);
  }
  await waitDrained(target.logDir, 300, 5000);
  if (recordGenerations(target.logDir).length === 0) throw new Error(`${what} captured no record with its plugin set`);
  const start = (await admin(target, "GET", "/api/plugins")).json["generation"];
  if (typeof start !== "number") throw new Error(`${what}: GET /api/plugins has no generation`);
  for (const [i, set] of [SETS[1], SETS[0]].entries()) {
    const put = await admin(target, "PUT", "/api/plugins", set);
    if (put.status !== 200 || put.json["generation"] !== start + i + 1) {
      throw new Error(`${what}: PUT /api/plugins answered ${put.status} ${put.text.slice(0, 300)}`);
    }
  }
  target.set = 0;
  truncateRecords(target.logDir);
}

/**
 * PUT the other set every RELOAD_EVERY_MS, one at a time, from half a period
 * after `t0` until half a period before `endMs`; returns each call.
 */
async function reloadLoop(target: Running, t0: number, endMs: number): Promise<ReloadCall[]> {
  const calls: ReloadCall[] = [];
  for (let i = 0;; i++) {
    const at = t0 + RELOAD_EVERY_MS / 2 + i * RELOAD_EVERY_MS;
    if (at > endMs - RELOAD_EVERY_MS / 2) break;
    await sleep(Math.max(0, at - Date.now()));
    const sent = Date.now();
    const call: ReloadCall = { atMs: sent - t0, status: 0, ms: 0 };
    try {
      const res = await admin(target, "PUT", "/api/plugins", SETS[1 - target.set]);
      call.status = res.status;
      if (typeof res.json["generation"] === "number") call.generation = res.json["generation"];
      else call.error = res.text.slice(0, 200);
      if (res.status === 200) target.set = 1 - target.set;
    } catch (err) {
      call.error = err instanceof Error ? err.message : String(err);
    }
    call.ms = Date.now() - sent;
    calls.push(call);
  }
  return calls;
}

/** A Prometheus gauge or counter (first sample) from the admin metrics, undefined if absent. */
async function metric(target: Running, name: string): Promise<number | undefined> {
  const { text } = await admin(target, "GET", "/_metrics");
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
}

/** After this long into the run, stop waiting for a quiet machine (keeps the run within its time budget). */
const QUIET_WAIT_UNTIL_MS = 5 * 60 * 1000;
const runStarted = Date.now();

/** One measured round: wrk at c32, with a reload a second in B; then capture and memory afterwards. */
async function round(ctx: Context, target: Running, kind: "A" | "B", n: number): Promise<RoundResult> {
  const { opts } = ctx;
  const wrk: WrkOptions = {
    url: `http://127.0.0.1:${opts.port}${PATH}`,
    connections: opts.connections,
    threads: 1,
    seconds: opts.duration,
    core: opts.loadCore,
  };
  const slack = Math.max(0, (QUIET_WAIT_UNTIL_MS - (Date.now() - runStarted)) / 1000);
  await waitQuiet(Math.min(opts.quietWait, slack), log);
  await waitDrained(target.logDir);
  truncateRecords(target.logDir);
  const capture0 = await captureCounters(target.adminPort, "/_metrics", target.auth);
  const t0 = Date.now();
  const reloads = kind === "B" ? reloadLoop(target, t0, t0 + opts.duration * 1000) : Promise.resolve([]);
  const m = await measureWrk(wrk, target.pids, ctx.upstreamPids);
  const r = m.wrk;
  const result: RoundResult = {
    kind,
    round: n,
    requests: r.requests,
    seconds: m.seconds,
    reqPerSec: r.requests / m.seconds,
    p50us: r.lat_p50_us,
    p99us: r.lat_p99_us,
    cpuUsPerReq: (m.proxyCpuSeconds * 1e6) / Math.max(1, r.requests),
    socketErrors: r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout,
    statusErrors: r.errors.status,
    reloads: await reloads,
    otherCpuPercent: m.otherCpuPercent,
  };
  await waitDrained(target.logDir);
  result.records = countRecords(target.logDir, m.wallStart, m.wallEnd).inWindow;
  result.generations = recordGenerations(target.logDir);
  const capture1 = await captureCounters(target.adminPort, "/_metrics", target.auth);
  if (capture0 && capture1) result.dropped = capture1.dropped - capture0.dropped;
  // A replaced set is freed once its last exchange and record are done: give it a moment after the drain.
  for (let i = 0; i < 20; i++) {
    result.liveSets = await metric(target, "tapline_plugin_generations_live");
    if (result.liveSets === undefined || result.liveSets <= 1) break;
    await sleep(100);
  }
  result.rssBytes = memoryBytes(processTree(target.service.pid), "VmRSS");
  truncateRecords(target.logDir);
  return result;
}

/** One runtime: start its tapline, check, warm up, then A and B rounds alternately; stop. */
async function runRuntime(ctx: Context, runtime: RuntimeName): Promise<ReloadRuntimeResult> {
  const { opts } = ctx;
  const result: ReloadRuntimeResult = { runtime, rounds: [] };
  let target: Running | undefined;
  try {
    target = await startTapline(ctx, runtime);
    await check(ctx, target, `tapline (${runtime})`);
    if (opts.warmup > 0) {
      await runWrk({
        url: `http://127.0.0.1:${opts.port}${PATH}`,
        connections: opts.connections,
        threads: 1,
        seconds: opts.warmup,
        core: opts.loadCore,
      });
    }
    for (let n = 1; n <= opts.rounds; n++) {
      for (const kind of ["A", "B"] as const) {
        const x = await round(ctx, target, kind, n);
        result.rounds.push(x);
        const refused = x.reloads.filter((c) => c.status !== 200);
        log(
          `${runtime} ${kind}${n}: ${Math.round(x.reqPerSec)} req/s, p50 ${(x.p50us / 1000).toFixed(3)} ms, ` +
            `p99 ${(x.p99us / 1000).toFixed(3)} ms, failed ${x.socketErrors + x.statusErrors}` +
            (kind === "B" ? `, ${x.reloads.length} reloads (${refused.length} not 200)` : "") +
            `, ${x.records}/${x.requests} records, live sets ${x.liveSets ?? "?"}`,
        );
        if (refused.length > 0) {
          throw new Error(`reload refused: ${refused[0]!.status} ${refused[0]!.error ?? ""}`.trim());
        }
      }
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    log(`${runtime} failed: ${result.error}`);
  } finally {
    if (target) {
      await stopService(target.service);
      await waitForPortFree(opts.port, 5000);
      Object.assign(result, stoppedCounters(target.service.output()));
    }
  }
  return result;
}

/** Whether tapline's help lists --data-dir (not every build has it; without it ./data follows the cwd). */
function hasDataDirFlag(root: string): boolean {
  const r = spawnSync(process.execPath, [join(root, "bin/tapline.js"), "--help"], { encoding: "utf8" });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.includes("--data-dir");
}

async function main(): Promise<void> {
  const root = repoRoot();
  const opts = parseOptions(root);
  requireTools();
  const started = Date.now();
  const dir = scratchDir("tapline-reload-", opts.keep);
  const upstreamPort = opts.port + 1;
  const dataDirFlag = hasDataDirFlag(root);
  log(
    `scratch dir ${dir}; tapline on core ${opts.proxyCore ?? "any"}, wrk and upstream on ${opts.loadCore ?? "any"}; ` +
      `data dir via ${dataDirFlag ? "--data-dir" : "cwd"}`,
  );
  const results: ReloadRuntimeResult[] = [];
  let upstream: Service | undefined;
  try {
    for (const port of [opts.port, upstreamPort, opts.port + 2]) await assertPortFree(port);
    upstream = startService("upstream (nginx)", "nginx", upstreamConfig(join(dir, "upstream"), upstreamPort).args, {
      core: opts.loadCore,
    });
    await waitListening(upstream, upstreamPort, 10_000);
    const ctx: Context = {
      opts,
      root,
      dir,
      upstreamPort,
      upstreamPids: processTree(upstream.pid),
      token: randomBytes(32).toString("hex"),
      dataDirFlag,
    };
    for (const runtime of opts.runtimes) results.push(await runRuntime(ctx, runtime));
  } finally {
    if (upstream) await stopService(upstream);
  }
  const md = renderReloadReport(
    {
      ...reportStamp(),
      versions: benchVersions(root),
      settings: `GET ${PATH} (1024 bytes, application/json); wrk -t1 -c${opts.connections} -d${opts.duration}s, ` +
        `${opts.rounds} rounds of A (no reloads) and B (PUT /api/plugins with the other path-filter set every ` +
        `${RELOAD_EVERY_MS / 1000} s) alternating on one tapline per runtime after a ${opts.warmup} s warm-up; ` +
        `best round of each; tapline on CPU ${opts.proxyCore ?? "any"}, wrk + nginx upstream on CPU ` +
        `${opts.loadCore ?? "any"}; log_jsonl capture on; total run ${Math.round((Date.now() - started) / 1000)} s`,
    },
    results,
  );
  writeReport(opts.out, md, { opts, results });
  log(`wrote ${opts.out}`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
