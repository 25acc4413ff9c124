/**
 * The tapline load benchmark: measures the upstream directly, nginx as a
 * reverse proxy, and tapline on Node, Deno and Bun (JSONL capture on) in one
 * run, and writes a markdown table to bench/results/latest.md.
 *
 * Usage (after `npx tsc -p tsconfig.json`; bench/run.sh does both):
 *   node dist/bench/run.js [--targets direct,nginx,node,deno,bun]
 *     [--scenarios get1k,post1k,get1m,lat1] [--duration 10] [--warmup 3]
 *     [--connections 32] [--threads 1] [--upstream nginx|node]
 *     [--proxy-core 1] [--load-core 0] [--port 18280] [--out FILE] [--keep]
 *     [--quiet-wait 10] [--capture on|off|sqlite] [--tapline-args="--max-body-size 64KB"]
 */
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  benchVersions,
  listOption,
  loadOptionSpecs,
  pinnedCores,
  repoRoot,
  reportStamp,
  requireTools,
  scratchDir,
  writeReport,
} from "./env.ts";
import { countRecords, truncateRecords, waitDrained } from "./jsonl-stats.ts";
import { measureWrk } from "./measure.ts";
import { upstreamConfig } from "./nginx.ts";
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
import { stoppedCounters } from "./stopped.ts";
import { renderReport, SCENARIO_NAMES, type ScenarioName, type ScenarioResult, type TargetResult } from "./report.ts";
import { DEFAULT_TARGETS, type RunningTarget, startTarget, TARGET_NAMES, type TargetName } from "./targets.ts";
import { errorCount, runWrk, type WrkOptions } from "./wrk.ts";

interface Options {
  targets: TargetName[];
  scenarios: ScenarioName[];
  duration: number;
  warmup: number;
  connections: number;
  threads: number;
  upstream: "nginx" | "node";
  proxyCore: string | undefined;
  loadCore: string | undefined;
  port: number;
  out: string;
  keep: boolean;
  quietWait: number;
  capture: boolean;
  /** `--capture sqlite`: SQLite next to JSONL. */
  sqlite: boolean;
  /** `--http2 off`: tapline's proxy with `http2=off` (HTTP/1.1 only). */
  http2: boolean;
  taplineArgs: string[];
}

function parseOptions(root: string): Options {
  const { values } = parseArgs({
    options: {
      ...loadOptionSpecs({ port: "18280", out: join(root, "bench/results/latest.md"), quietWait: "10" }),
      targets: { type: "string", default: DEFAULT_TARGETS.join(",") },
      scenarios: { type: "string", default: SCENARIO_NAMES.join(",") },
      threads: { type: "string", default: "1" },
      upstream: { type: "string", default: "nginx" },
      capture: { type: "string", default: "on" },
      http2: { type: "string", default: "on" },
      "tapline-args": { type: "string", default: "" },
    },
  });
  const upstream = values.upstream;
  if (upstream !== "nginx" && upstream !== "node") {
    throw new Error(`Invalid --upstream "${upstream}": expected nginx or node`);
  }
  if (values.capture !== "on" && values.capture !== "off" && values.capture !== "sqlite") {
    throw new Error(`Invalid --capture "${values.capture}": expected on, off or sqlite`);
  }
  if (values.http2 !== "on" && values.http2 !== "off") {
    throw new Error(`Invalid --http2 "${values.http2}": expected on or off`);
  }
  return {
    targets: listOption(values.targets, TARGET_NAMES, "target"),
    scenarios: listOption(values.scenarios, SCENARIO_NAMES, "scenario"),
    duration: Number(values.duration),
    warmup: Number(values.warmup),
    connections: Number(values.connections),
    threads: Number(values.threads),
    upstream,
    ...pinnedCores(values["proxy-core"], values["load-core"]),
    port: Number(values.port),
    out: resolve(values.out),
    keep: values.keep,
    quietWait: Number(values["quiet-wait"]),
    capture: values.capture !== "off",
    sqlite: values.capture === "sqlite",
    http2: values.http2 === "on",
    taplineArgs: values["tapline-args"].split(/\s+/).filter(Boolean),
  };
}

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Start the upstream on the load core and check it serves what the scenarios fetch. */
async function startUpstream(opts: Options, root: string, dir: string, port: number): Promise<Service> {
  let svc: Service;
  if (opts.upstream === "nginx") {
    const inst = upstreamConfig(join(dir, "upstream"), port);
    svc = startService("upstream (nginx)", "nginx", inst.args, { core: opts.loadCore });
  } else {
    svc = startService("upstream (node)", process.execPath, [join(root, "dist/bench/upstream.js"), String(port)], {
      core: opts.loadCore,
    });
  }
  await waitListening(svc, port, 10_000);
  await checkServes(port, "upstream");
  return svc;
}

/** Fetch each route once and verify status and size, so a broken proxy fails fast and clearly. */
async function checkServes(port: number, what: string): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const expect = async (path: string, init: RequestInit, size: number) => {
    const res = await fetch(base + path, { ...init, signal: AbortSignal.timeout(10_000) });
    const body = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200 || body.length !== size) {
      throw new Error(
        `${what} answered ${
          init.method ?? "GET"
        } ${path} with ${res.status} and ${body.length} bytes, expected 200 and ${size}`,
      );
    }
  };
  await expect("/1k", {}, 1024);
  await expect("/1m", {}, 1024 * 1024);
  await expect("/1k", { method: "POST", body: "x".repeat(1024), headers: { "content-type": "text/plain" } }, 3);
}

/** After this long into the run, stop waiting for a quiet machine (keeps the run under 10 minutes). */
const QUIET_WAIT_UNTIL_MS = 6 * 60 * 1000;
const runStarted = Date.now();

/** Warm up, then measure one scenario, sampling the proxy's CPU around the measured run. */
async function runScenario(
  opts: Options,
  scenario: ScenarioName,
  target: RunningTarget,
  pids: number[],
  upstreamPids: number[],
): Promise<ScenarioResult> {
  const url = `http://127.0.0.1:${target.port}${scenario === "get1m" ? "/1m" : "/1k"}`;
  const connections = scenario === "lat1" ? 1 : opts.connections;
  const wrk: WrkOptions = {
    url,
    connections,
    threads: Math.min(opts.threads, connections),
    seconds: opts.warmup,
    method: scenario === "post1k" ? "POST" : "GET",
    bodySize: 1024,
    core: opts.loadCore,
  };
  // Waiting for a quiet machine is best effort: it stops once the run nears its time bound.
  const slack = Math.max(0, (QUIET_WAIT_UNTIL_MS - (Date.now() - runStarted)) / 1000);
  await waitQuiet(Math.min(opts.quietWait, slack), log);
  if (opts.warmup > 0) await runWrk(wrk);
  if (target.logDir) {
    // Let the writer drain the warm-up's records before emptying the files.
    await waitDrained(target.logDir);
    truncateRecords(target.logDir);
  }
  const m = await measureWrk({ ...wrk, seconds: opts.duration }, pids, upstreamPids);
  const { wrk: r, seconds } = m;
  const result: ScenarioResult = {
    scenario,
    connections,
    requests: r.requests,
    seconds,
    reqPerSec: r.requests / seconds,
    bytesPerSec: r.bytes / seconds,
    p50us: r.lat_p50_us,
    p99us: r.lat_p99_us,
    errors: errorCount(r),
    // Everything busy on the machine that is not the proxy, the upstream, wrk or the harness.
    otherCpuPercent: m.otherCpuPercent,
  };
  if (pids.length > 0) {
    result.cpuUsPerReq = (m.proxyCpuSeconds * 1e6) / Math.max(1, r.requests);
    result.cpuPercent = (m.proxyCpuSeconds / seconds) * 100;
  }
  if (target.logDir) {
    result.captureLagMs = await waitDrained(target.logDir);
    // Count by request start time: records of the warm-up may still be arriving from a lagging writer.
    const { inWindow, bytes } = countRecords(target.logDir, m.wallStart, m.wallEnd);
    result.records = inWindow;
    result.jsonlBytes = bytes;
    truncateRecords(target.logDir);
  }
  return result;
}

async function runTarget(
  opts: Options,
  root: string,
  dir: string,
  name: TargetName,
  upstreamPort: number,
  upstreamPids: number[],
): Promise<TargetResult> {
  const result: TargetResult = { target: name, scenarios: [] };
  const tdir = join(dir, name);
  mkdirSync(tdir, { recursive: true });
  let target: RunningTarget | undefined;
  try {
    log(`starting ${name}`);
    target = await startTarget(name, {
      root,
      dir: tdir,
      port: opts.port,
      upstreamPort,
      core: opts.proxyCore,
      capture: opts.capture,
      sqlite: opts.sqlite,
      http2: opts.http2,
      taplineArgs: opts.taplineArgs,
    });
    const pids = target.service ? processTree(target.service.pid) : [];
    if (pids.length > 0) {
      await sleep(500);
      result.idleRssBytes = memoryBytes(pids, "VmRSS");
    }
    await checkServes(target.port, name);
    for (const scenario of opts.scenarios) {
      const s = await runScenario(opts, scenario, target, pids, upstreamPids);
      log(
        `${name} ${scenario}: ${Math.round(s.reqPerSec)} req/s, ${(s.bytesPerSec / 1048576).toFixed(1)} MiB/s, p50 ${
          (s.p50us / 1000).toFixed(3)
        } ms` +
          (s.cpuUsPerReq === undefined ? "" : `, ${s.cpuUsPerReq.toFixed(1)} µs CPU/req`) +
          (s.records === undefined ? "" : `, ${s.records} records`) +
          (s.errors ? `, ${s.errors} errors` : ""),
      );
      result.scenarios.push(s);
    }
    if (pids.length > 0) result.peakRssBytes = memoryBytes(pids, "VmHWM");
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    log(`${name} failed: ${result.error}`);
  } finally {
    if (target?.service) {
      await stopService(target.service);
      await waitForPortFree(opts.port, 5000);
      Object.assign(result, stoppedCounters(target.service.output()));
    }
  }
  return result;
}

async function main(): Promise<void> {
  const root = repoRoot();
  const opts = parseOptions(root);
  requireTools();
  const started = Date.now();
  const dir = scratchDir("tapline-bench-", opts.keep);
  const upstreamPort = opts.port + 1;
  log(
    `scratch dir ${dir}; proxy on core ${opts.proxyCore ?? "any"}, wrk and upstream on core ${opts.loadCore ?? "any"}`,
  );
  const results: TargetResult[] = [];
  let upstream: Service | undefined;
  try {
    await assertPortFree(upstreamPort);
    await assertPortFree(opts.port);
    upstream = await startUpstream(opts, root, dir, upstreamPort);
    const upstreamPids = processTree(upstream.pid);
    for (const name of opts.targets) {
      results.push(await runTarget(opts, root, dir, name, upstreamPort, upstreamPids));
    }
  } finally {
    if (upstream) await stopService(upstream);
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }
  const md = renderReport(
    {
      ...reportStamp(),
      versions: benchVersions(root),
      settings: `wrk -t${opts.threads} -c${opts.connections} -d${opts.duration}s after a ${opts.warmup} s warm-up; ` +
        `proxy on CPU ${opts.proxyCore ?? "any"}, wrk + ${opts.upstream} upstream on CPU ${opts.loadCore ?? "any"}; ` +
        `tapline with log_jsonl capture ${opts.capture ? "on" : "OFF"}${opts.sqlite ? " and log_sqlite" : ""}` +
        (opts.http2 ? "" : ", http2=off") +
        (opts.taplineArgs.length > 0 ? ` and flags \`${opts.taplineArgs.join(" ")}\`` : "") +
        `; total run ${Math.round((Date.now() - started) / 1000)} s`,
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
