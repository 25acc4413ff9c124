/**
 * The plugin benchmark (issue 5): 1 KiB JSON GET through tapline with no
 * plugins, with one no-op `onRequest` plugin, with the three bundled plugins,
 * and with redaction alone (only `onCapture`), on Node, Deno and Bun with
 * JSONL capture on, in one run. Writes bench/results/plugins-latest.md.
 *
 * Each scenario runs its own tapline process (plugins are start-up config),
 * pinned to one core, loaded by wrk at 32 connections, then at 1 connection
 * for the unloaded latency.
 *
 * Usage (after `npx tsc -p tsconfig.json`; bench/plugins.sh does both):
 *   node dist/bench/plugins.js [--runtimes node,deno,bun]
 *     [--scenarios none,noop,bundled,redaction] [--duration 10] [--warmup 3]
 *     [--latency 3] [--connections 32] [--proxy-core 1] [--load-core 0]
 *     [--port 18480] [--quiet-wait 5] [--out FILE] [--keep]
 */
import { readFileSync, rmSync } from "node:fs";
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
import { countRecords, truncateRecords, waitDrained } from "./jsonl-stats.ts";
import { measureWrk } from "./measure.ts";
import { upstreamConfig } from "./nginx.ts";
import {
  PLUGIN_SCENARIO_NAMES,
  type PluginCounters,
  type PluginRuntimeResult,
  type PluginScenarioName,
  type PluginScenarioResult,
  renderPluginReport,
  RUNTIME_NAMES,
  type RuntimeName,
} from "./plugins-report.ts";
import { processTree } from "./procstat.ts";
import { assertPortFree, type Service, startService, stopService, waitForPortFree, waitListening } from "./procs.ts";
import { waitQuiet } from "./quiet.ts";
import { type CaptureCounters, captureCounters, counterDelta } from "./stream-records.ts";
import { stoppedCounters } from "./stopped.ts";
import { taplineCommand } from "./targets.ts";
import { errorCount, runWrk, type WrkOptions } from "./wrk.ts";

/** The YAML config (under bench/fixtures/) of each scenario; `none` runs without --config. */
const SCENARIO_CONFIG: Record<PluginScenarioName, string | undefined> = {
  none: undefined,
  noop: "plugins-noop.yaml",
  bundled: "plugins-bundled.yaml",
  redaction: "plugins-redaction.yaml",
};

/** The path the upstream serves as 1024 bytes of application/json (bench/nginx.ts). */
const PATH = "/1k.json";

/** Sent on every request, so redaction's header rules have values to replace. */
const HEADERS = [
  "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2lnbmF0dXJlLWJlbmNo",
  "Cookie: session=7f3c9a1e5b; theme=dark",
];

interface Options extends LoadOptions {
  runtimes: RuntimeName[];
  scenarios: PluginScenarioName[];
  latency: number;
}

function parseOptions(root: string): Options {
  const { values } = parseArgs({
    options: {
      ...loadOptionSpecs({ port: "18480", out: join(root, "bench/results/plugins-latest.md"), quietWait: "5" }),
      runtimes: { type: "string", default: RUNTIME_NAMES.join(",") },
      scenarios: { type: "string", default: PLUGIN_SCENARIO_NAMES.join(",") },
      latency: { type: "string", default: "3" },
    },
  });
  return {
    runtimes: listOption(values.runtimes, RUNTIME_NAMES, "runtime"),
    scenarios: listOption(values.scenarios, PLUGIN_SCENARIO_NAMES, "scenario"),
    latency: numberOption("latency", values.latency, 0),
    ...loadOptions(values),
  };
}

function log(msg: string): void {
  process.stderr.write(`[plugins ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** What every scenario shares: options, where things are, and the upstream. */
interface Context {
  opts: Options;
  root: string;
  /** Scratch directory of the run. */
  dir: string;
  upstreamPort: number;
  upstreamPids: number[];
}

/** A tapline process for one scenario. */
interface Running {
  service: Service;
  pids: number[];
  logDir: string;
  adminPort: number;
}

async function startTapline(
  { opts, root, dir, upstreamPort }: Context,
  runtime: RuntimeName,
  scenario: PluginScenarioName,
): Promise<Running> {
  const logDir = join(dir, `${runtime}-${scenario}`, "logs");
  const adminPort = opts.port + 2;
  const spec = `name=bench,listen_http=127.0.0.1:${opts.port},upstream=http://127.0.0.1:${upstreamPort},` +
    `log_jsonl=${logDir}/`;
  const [cmd, args] = taplineCommand(runtime, root, spec);
  const config = SCENARIO_CONFIG[scenario];
  const service = startService(
    `tapline (${runtime}, ${scenario})`,
    cmd,
    [
      ...args,
      "--listen-admin",
      `127.0.0.1:${adminPort}`,
      ...(config === undefined ? [] : ["--config", join(root, "bench/fixtures", config)]),
    ],
    { core: opts.proxyCore, cwd: root },
  );
  await service.waitFor(`"msg":"ready"`, 60_000);
  await waitListening(service, opts.port, 10_000);
  return { service, pids: processTree(service.pid), logDir, adminPort };
}

/**
 * Fetch the JSON body once through `port` and check status, size and, for
 * plugin scenarios, that the plugins did their work: text-replace in the
 * response, redaction in the captured record.
 */
async function checkServes(port: number, what: string, scenario: PluginScenarioName, logDir?: string): Promise<void> {
  const headers = Object.fromEntries(HEADERS.map((h) => [h.slice(0, h.indexOf(":")), h.slice(h.indexOf(":") + 2)]));
  const res = await fetch(`http://127.0.0.1:${port}${PATH}`, { headers, signal: AbortSignal.timeout(10_000) });
  const body = await res.text();
  const type = res.headers.get("content-type") ?? "";
  const replaced = scenario === "bundled";
  if (res.status !== 200 || !type.startsWith("application/json") || (!replaced && body.length !== 1024)) {
    throw new Error(`${what} answered GET ${PATH} with ${res.status}, ${type}, ${body.length} bytes`);
  }
  if (replaced !== body.includes("bench-mark")) {
    throw new Error(`${what}: text-replace ${replaced ? "did not run" : "ran"} on the response body`);
  }
  if (logDir === undefined) return;
  // A quiet file is not enough: the first record can take longer than the quiet period (sandboxes warming up).
  for (const until = Date.now() + 10_000; countRecords(logDir).records === 0 && Date.now() < until;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await waitDrained(logDir, 300, 5000);
  const record = countRecords(logDir).records === 0 ? "" : readJsonl(logDir);
  const redacts = scenario === "bundled" || scenario === "redaction";
  if (!record.includes(`"type":"http"`)) throw new Error(`${what} wrote no http record for the check request`);
  if (redacts !== record.includes("[REDACTED:email]") || redacts === record.includes("user1@example.com")) {
    throw new Error(`${what}: the captured record is ${redacts ? "not " : ""}redacted`);
  }
  truncateRecords(logDir);
}

function readJsonl(logDir: string): string {
  return readFileSync(join(logDir, "bench.jsonl"), "utf8");
}

/** Per plugin instance counters from tapline's Prometheus metrics. */
async function pluginCounters(adminPort: number): Promise<Record<string, PluginCounters>> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/_metrics`, { signal: AbortSignal.timeout(5000) });
  const out: Record<string, PluginCounters> = {};
  const fields: Record<string, keyof PluginCounters> = {
    tapline_plugin_calls_total: "calls",
    tapline_plugin_seconds_total: "seconds",
    tapline_plugin_errors_total: "errors",
    tapline_plugin_timeouts_total: "timeouts",
    tapline_plugin_oom_total: "oom",
    tapline_plugin_records_dropped_total: "recordsDropped",
  };
  for (const line of (await res.text()).split("\n")) {
    const m = /^(tapline_plugin_[a-z_]+)\{plugin="([^"]*)"[^}]*\} ([0-9.eE+-]+)$/.exec(line);
    const field = m ? fields[m[1]!] : undefined;
    if (!m || field === undefined) continue;
    const p = out[m[2]!] ??= { calls: 0, seconds: 0, errors: 0, timeouts: 0, oom: 0, recordsDropped: 0 };
    p[field] += Number(m[3]);
  }
  return out;
}

function pluginDelta(
  before: Record<string, PluginCounters>,
  after: Record<string, PluginCounters>,
): Record<string, PluginCounters> {
  const out: Record<string, PluginCounters> = {};
  for (const [id, a] of Object.entries(after)) {
    const b = before[id];
    out[id] = {
      calls: a.calls - (b?.calls ?? 0),
      seconds: a.seconds - (b?.seconds ?? 0),
      errors: a.errors - (b?.errors ?? 0),
      timeouts: a.timeouts - (b?.timeouts ?? 0),
      oom: a.oom - (b?.oom ?? 0),
      recordsDropped: a.recordsDropped - (b?.recordsDropped ?? 0),
    };
  }
  return out;
}

/** After this long into the run, stop waiting for a quiet machine (keeps the run within its time budget). */
const QUIET_WAIT_UNTIL_MS = 5 * 60 * 1000;
const runStarted = Date.now();

/** Warm up, measure at c32 (records, drops, plugin counters), then at c1 for the latency. */
async function measure(
  { opts, upstreamPids }: Context,
  scenario: PluginScenarioName,
  target: Running,
): Promise<PluginScenarioResult> {
  const wrk: WrkOptions = {
    url: `http://127.0.0.1:${opts.port}${PATH}`,
    connections: opts.connections,
    threads: 1,
    seconds: opts.warmup,
    headers: HEADERS,
    core: opts.loadCore,
  };
  const slack = Math.max(0, (QUIET_WAIT_UNTIL_MS - (Date.now() - runStarted)) / 1000);
  await waitQuiet(Math.min(opts.quietWait, slack), log);
  if (opts.warmup > 0) await runWrk(wrk);
  await waitDrained(target.logDir);
  truncateRecords(target.logDir);
  const capture0 = await captureCounters(target.adminPort);
  const plugins0 = await pluginCounters(target.adminPort);
  const m = await measureWrk({ ...wrk, seconds: opts.duration }, target.pids, upstreamPids);
  const r = m.wrk;
  const result: PluginScenarioResult = {
    scenario,
    requests: r.requests,
    seconds: m.seconds,
    reqPerSec: r.requests / m.seconds,
    p50us: r.lat_p50_us,
    p99us: r.lat_p99_us,
    cpuUsPerReq: (m.proxyCpuSeconds * 1e6) / Math.max(1, r.requests),
    cpuPercent: (m.proxyCpuSeconds / m.seconds) * 100,
    errors: errorCount(r),
    otherCpuPercent: m.otherCpuPercent,
  };
  result.captureLagMs = await waitDrained(target.logDir);
  result.records = countRecords(target.logDir, m.wallStart, m.wallEnd).inWindow;
  const capture1 = await captureCounters(target.adminPort);
  if (capture0 && capture1) {
    const d: CaptureCounters = counterDelta(capture0, capture1);
    result.dropped = d.dropped;
    result.droppedBy = d.droppedBy;
  }
  if (scenario !== "none") result.plugins = pluginDelta(plugins0, await pluginCounters(target.adminPort));
  truncateRecords(target.logDir);
  if (opts.latency > 0) {
    const c1 = await measureWrk({ ...wrk, connections: 1, seconds: opts.latency }, target.pids, upstreamPids);
    result.c1ReqPerSec = c1.wrk.requests / c1.seconds;
    result.c1CpuPercent = (c1.proxyCpuSeconds / c1.seconds) * 100;
    result.c1p50us = c1.wrk.lat_p50_us;
    result.c1p99us = c1.wrk.lat_p99_us;
    result.errors += errorCount(c1.wrk);
  }
  return result;
}

/** One scenario on one runtime: start its tapline, check, measure, stop. */
async function runScenario(
  ctx: Context,
  runtime: RuntimeName,
  scenario: PluginScenarioName,
): Promise<PluginScenarioResult> {
  const { opts } = ctx;
  let target: Running | undefined;
  let result: PluginScenarioResult;
  try {
    target = await startTapline(ctx, runtime, scenario);
    await checkServes(opts.port, `tapline (${runtime}, ${scenario})`, scenario, target.logDir);
    result = await measure(ctx, scenario, target);
    const plugins = Object.entries(result.plugins ?? {}).map(([id, p]) =>
      `${id} ${((p.seconds * 1e6) / Math.max(1, result.requests)).toFixed(1)} µs/req in ${p.calls} calls`
    );
    log(
      `${runtime} ${scenario}: ${Math.round(result.reqPerSec)} req/s, p50 ${(result.p50us / 1000).toFixed(3)} ms` +
        `, c1 p50 ${((result.c1p50us ?? 0) / 1000).toFixed(3)} ms, ${result.cpuUsPerReq?.toFixed(1)} µs CPU/req` +
        `, ${result.records}/${result.requests} records` +
        (result.dropped ? `, ${result.dropped} dropped` : "") +
        (plugins.length > 0 ? `, ${plugins.join(", ")}` : "") +
        (result.errors ? `, ${result.errors} errors` : ""),
    );
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    log(`${runtime} ${scenario} failed: ${error}`);
    result = {
      scenario,
      requests: 0,
      seconds: 0,
      reqPerSec: 0,
      p50us: 0,
      p99us: 0,
      errors: 0,
      otherCpuPercent: 0,
      error,
    };
  } finally {
    if (target) {
      await stopService(target.service);
      await waitForPortFree(opts.port, 5000);
    }
  }
  if (target) Object.assign(result, stoppedCounters(target.service.output()));
  return result;
}

/** Start the nginx upstream on the load core and check it serves the JSON body. */
async function startUpstream(opts: Options, dir: string, port: number): Promise<Service> {
  const inst = upstreamConfig(join(dir, "upstream"), port);
  const svc = startService("upstream (nginx)", "nginx", inst.args, { core: opts.loadCore });
  await waitListening(svc, port, 10_000);
  await checkServes(port, "upstream", "none");
  return svc;
}

async function main(): Promise<void> {
  const root = repoRoot();
  const opts = parseOptions(root);
  requireTools();
  const started = Date.now();
  const dir = scratchDir("tapline-plugins-", opts.keep);
  const upstreamPort = opts.port + 1;
  log(`scratch dir ${dir}; tapline on core ${opts.proxyCore ?? "any"}, wrk and upstream on ${opts.loadCore ?? "any"}`);
  const results: PluginRuntimeResult[] = [];
  let upstream: Service | undefined;
  try {
    for (const port of [opts.port, upstreamPort, opts.port + 2]) await assertPortFree(port);
    upstream = await startUpstream(opts, dir, upstreamPort);
    const ctx: Context = { opts, root, dir, upstreamPort, upstreamPids: processTree(upstream.pid) };
    for (const runtime of opts.runtimes) {
      const result: PluginRuntimeResult = { runtime, scenarios: [] };
      for (const scenario of opts.scenarios) result.scenarios.push(await runScenario(ctx, runtime, scenario));
      results.push(result);
    }
  } finally {
    if (upstream) await stopService(upstream);
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }
  const md = renderPluginReport(
    {
      ...reportStamp(),
      versions: benchVersions(root),
      settings: `GET ${PATH} (1024 bytes, application/json) with Authorization and Cookie headers; ` +
        `wrk -t1 -c${opts.connections} -d${opts.duration}s after a ${opts.warmup} s warm-up, then -c1 ` +
        `-d${opts.latency}s; tapline on CPU ${opts.proxyCore ?? "any"}, wrk + nginx upstream on CPU ` +
        `${opts.loadCore ?? "any"}; log_jsonl capture on; plugin configs in bench/fixtures/; ` +
        `total run ${Math.round((Date.now() - started) / 1000)} s`,
    },
    results,
  );
  writeReport(opts.out, md, { opts, results });
  log(`wrote ${opts.out}`);
  if (results.some((r) => r.scenarios.some((s) => s.error))) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
