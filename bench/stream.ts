/**
 * The tapline streaming benchmark: WebSocket echo rates and SSE event rates
 * straight to the upstream (`direct`) and through tapline on Node, Deno and
 * Bun (JSONL capture on), in one run. Writes a markdown table to
 * bench/results/stream.md. The HTTP benchmark (bench/run.ts) is separate.
 *
 * Usage (after `npx tsc -p tsconfig.json`; bench/stream.sh does both):
 *   node dist/bench/stream.js [--targets direct,node,deno,bun]
 *     [--scenarios ws-small,ws-pipe,ws-1m,sse] [--duration 6] [--warmup 2]
 *     [--connections 16] [--window 32] [--big-connections 4] [--streams 4]
 *     [--proxy-core 1] [--load-core 0] [--port 18380] [--capture on|off]
 *     [--tapline-args="--max-body-size 64KB"] [--quiet-wait 5]
 *     [--out FILE] [--keep] [--cpu-prof]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { renderSummary, summarise } from "./cpuprofile.ts";
import { truncateRecords, waitDrained } from "./jsonl-stats.ts";
import { cpuSeconds, memoryBytes, processTree, selfAndReapedChildrenSeconds } from "./procstat.ts";
import {
  assertPortFree,
  onCleanup,
  type Service,
  sleep,
  startService,
  stopService,
  waitForPortFree,
  waitListening,
} from "./procs.ts";
import { totalBusySeconds, waitQuiet } from "./quiet.ts";
import { stoppedCounters } from "./stopped.ts";
import type { LoadResult } from "./stream-load.ts";
import { captureCounters, countByType, counterDelta } from "./stream-records.ts";
import {
  renderStreamReport,
  STREAM_TARGET_NAMES,
  type StreamScenarioResult,
  type StreamTargetName,
  type StreamTargetResult,
} from "./stream-report.ts";
import {
  type LoadSettings,
  scenarioLabel,
  scenarioLoad,
  STREAM_SCENARIO_NAMES,
  type StreamLoad,
  type StreamScenarioName,
} from "./stream-scenarios.ts";
import { taplineCommand } from "./targets.ts";

/** Repository root, whether this runs from bench/ (Deno, Bun) or dist/bench/ (Node). */
function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.endsWith(join("dist", "bench")) ? resolve(here, "../..") : resolve(here, "..");
}

interface Options {
  targets: StreamTargetName[];
  scenarios: StreamScenarioName[];
  duration: number;
  warmup: number;
  load: LoadSettings;
  proxyCore: string | undefined;
  loadCore: string | undefined;
  port: number;
  capture: boolean;
  taplineArgs: string[];
  quietWait: number;
  out: string;
  keep: boolean;
  cpuProf: boolean;
}

function parseOptions(root: string): Options {
  const { values } = parseArgs({
    options: {
      targets: { type: "string", default: STREAM_TARGET_NAMES.join(",") },
      scenarios: { type: "string", default: STREAM_SCENARIO_NAMES.join(",") },
      duration: { type: "string", default: "6" },
      warmup: { type: "string", default: "2" },
      connections: { type: "string", default: "16" },
      window: { type: "string", default: "32" },
      "big-connections": { type: "string", default: "4" },
      streams: { type: "string", default: "4" },
      "proxy-core": { type: "string", default: "1" },
      "load-core": { type: "string", default: "0" },
      port: { type: "string", default: "18380" },
      capture: { type: "string", default: "on" },
      "tapline-args": { type: "string", default: "" },
      "quiet-wait": { type: "string", default: "5" },
      out: { type: "string", default: join(root, "bench/results/stream.md") },
      keep: { type: "boolean", default: false },
      "cpu-prof": { type: "boolean", default: false },
    },
  });
  const list = <T extends string>(text: string, allowed: readonly T[], what: string): T[] =>
    text.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
      if (!(allowed as readonly string[]).includes(s)) {
        throw new Error(`Unknown ${what} "${s}" in --${what}s: expected some of ${allowed.join(", ")}`);
      }
      return s as T;
    });
  if (values.capture !== "on" && values.capture !== "off") {
    throw new Error(`Invalid --capture "${values.capture}": expected on or off`);
  }
  const positive = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`Invalid --${name} "${text}": expected a positive number`);
    return n;
  };
  const pin = cpus().length >= 2;
  if (!pin) process.stderr.write("Fewer than 2 CPUs: running everything unpinned\n");
  return {
    targets: list(values.targets, STREAM_TARGET_NAMES, "target"),
    scenarios: list(values.scenarios, STREAM_SCENARIO_NAMES, "scenario"),
    duration: positive("duration", values.duration),
    warmup: Number(values.warmup),
    load: {
      connections: positive("connections", values.connections),
      window: positive("window", values.window),
      bigConnections: positive("big-connections", values["big-connections"]),
      streams: positive("streams", values.streams),
    },
    proxyCore: pin ? values["proxy-core"] : undefined,
    loadCore: pin ? values["load-core"] : undefined,
    port: Number(values.port),
    capture: values.capture !== "off",
    taplineArgs: values["tapline-args"].split(/\s+/).filter(Boolean),
    quietWait: Number(values["quiet-wait"]),
    out: resolve(values.out),
    keep: values.keep,
    cpuProf: values["cpu-prof"],
  };
}

function log(msg: string): void {
  process.stderr.write(`[stream ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** A target under load: where to connect, and for tapline its process, logs and admin port. */
interface Running {
  port: number;
  service?: Service;
  pids: number[];
  logDir?: string;
  adminPort?: number;
  profDir?: string;
}

async function startTapline(
  opts: Options,
  root: string,
  dir: string,
  name: Exclude<StreamTargetName, "direct">,
  upstreamPort: number,
): Promise<Running> {
  const logDir = join(dir, "logs");
  const adminPort = opts.port + 2;
  const spec = `name=bench,listen_http=127.0.0.1:${opts.port},upstream=http://127.0.0.1:${upstreamPort}` +
    (opts.capture ? `,log_jsonl=${logDir}/` : "");
  const profDir = opts.cpuProf && name === "node" ? join(dir, "prof") : undefined;
  const nodeFlags = profDir ? ["--cpu-prof", "--cpu-prof-dir", profDir] : [];
  const [cmd, args] = taplineCommand(name, root, spec, nodeFlags);
  const service = startService(
    `tapline (${name})`,
    cmd,
    [...args, "--listen-admin", `127.0.0.1:${adminPort}`, ...opts.taplineArgs],
    { core: opts.proxyCore, cwd: root },
  );
  await service.waitFor(`"msg":"ready"`, 60_000);
  await waitListening(service, opts.port, 10_000);
  const running: Running = { port: opts.port, service, pids: processTree(service.pid), adminPort };
  if (opts.capture) running.logDir = logDir;
  if (profDir) running.profDir = profDir;
  return running;
}

/** The load generator's command line for `load`. */
function loadArgs(root: string, port: number, load: StreamLoad | "check", opts: Options): string[] {
  const script = join(root, "dist/bench/stream-load.js");
  if (load === "check") return [script, "--kind", "check", "--port", String(port)];
  return [
    script,
    "--kind",
    load.kind,
    "--port",
    String(port),
    "--connections",
    String(load.connections),
    "--window",
    String(load.window),
    "--size",
    String(load.size),
    ...(load.binary ? ["--binary"] : []),
    "--warmup",
    String(opts.warmup),
    "--duration",
    String(opts.duration),
    "--wait-go",
  ];
}

/** Verify echoes and an SSE stream through `port` before loading it. */
async function checkServes(root: string, opts: Options, port: number, what: string): Promise<void> {
  const svc = startService(`check (${what})`, process.execPath, loadArgs(root, port, "check", opts), {
    core: opts.loadCore,
  });
  const timer = setTimeout(() => svc.child.kill("SIGKILL"), 20_000);
  const code = await svc.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${what} failed the echo/SSE check: ${svc.output().trim() || `exit ${code}`}`);
}

/** The last `{"event":"result",...}` line the load generator printed. */
function parseResult(output: string): LoadResult {
  for (const line of output.split("\n").reverse()) {
    if (line.startsWith(`{"event":"result"`)) return JSON.parse(line) as LoadResult;
  }
  throw new Error(`The load generator printed no result:\n${output.slice(-2000)}`);
}

async function runScenario(
  opts: Options,
  root: string,
  name: StreamScenarioName,
  target: Running,
  upstreamPids: number[],
): Promise<StreamScenarioResult> {
  const load = scenarioLoad(name, opts.load);
  await waitQuiet(opts.quietWait, log);
  const before = target.adminPort === undefined ? undefined : await captureCounters(target.adminPort);
  const gen = startService(`load (${name})`, process.execPath, loadArgs(root, target.port, load, opts), {
    core: opts.loadCore,
  });
  try {
    await gen.waitFor(`"event":"warmed"`, opts.warmup * 1000 + 30_000);
    if (target.logDir) {
      // Let the writer catch up with the warm-up before the measured window starts.
      await waitDrained(target.logDir);
      addCounts(target, countByType(target.logDir, 0, 0).total);
      truncateRecords(target.logDir);
    }
    const cpu0 = cpuSeconds(target.pids);
    const up0 = cpuSeconds([...upstreamPids, gen.pid]);
    const self0 = selfAndReapedChildrenSeconds();
    const busy0 = totalBusySeconds();
    process.kill(gen.pid, "SIGUSR2");
    await gen.waitFor(`"event":"result"`, opts.duration * 1000 + 30_000);
    const busy1 = totalBusySeconds();
    const self1 = selfAndReapedChildrenSeconds();
    const up1 = cpuSeconds([...upstreamPids, gen.pid]);
    const cpu1 = cpuSeconds(target.pids);
    const r = parseResult(gen.output());
    const messages = r.messages;
    const result: StreamScenarioResult = {
      scenario: name,
      label: scenarioLabel(name, load),
      messages,
      bytes: r.bytes,
      seconds: r.seconds,
      perSec: messages / r.seconds,
      bytesPerSec: r.bytes / r.seconds,
      errors: r.errors,
      loadCpuPercent: ((up1 - up0) / r.seconds) * 100,
      otherCpuPercent: Math.max(
        0,
        ((busy1 - busy0) - (cpu1 - cpu0) - (up1 - up0) - (self1 - self0)) / r.seconds * 100,
      ),
    };
    if (r.p50us !== undefined) result.p50us = r.p50us;
    if (r.p99us !== undefined) result.p99us = r.p99us;
    if (target.pids.length > 0) {
      result.proxyCpuUsPerMsg = ((cpu1 - cpu0) * 1e6) / Math.max(1, messages);
      result.proxyCpuPercent = ((cpu1 - cpu0) / r.seconds) * 100;
    }
    const exit = await Promise.race([gen.exited, sleep(15_000).then(() => "timeout" as const)]);
    if (exit !== 0) result.errors++;
    if (target.logDir) {
      result.captureLagMs = await waitDrained(target.logDir);
      const counts = countByType(target.logDir, r.startMs, r.endMs);
      const type = load.kind === "ws" ? "websocket_frame" : "sse_event";
      result.records = counts.inWindow[type] ?? 0;
      result.expectedRecords = load.kind === "ws" ? 2 * messages : messages;
      addCounts(target, counts.total);
      truncateRecords(target.logDir);
    }
    if (before && target.adminPort !== undefined) {
      const after = await captureCounters(target.adminPort);
      if (after) {
        const d = counterDelta(before, after);
        result.dropped = d.dropped;
        result.droppedBy = d.droppedBy;
      }
    }
    return result;
  } finally {
    await stopService(gen, 2000);
  }
}

/** JSONL lines by type, summed over the whole target run (truncation resets the files). */
const linesByTarget = new WeakMap<Running, Record<string, number>>();

function addCounts(target: Running, counts: Record<string, number>): void {
  const sum = linesByTarget.get(target) ?? {};
  for (const [type, n] of Object.entries(counts)) sum[type] = (sum[type] ?? 0) + n;
  linesByTarget.set(target, sum);
}

/** Summarise the node target's CPU profile into bench/results/stream-profile.md. */
function writeProfile(opts: Options, profDir: string): void {
  const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) {
    log(`no .cpuprofile in ${profDir}: did tapline exit cleanly on SIGTERM?`);
    return;
  }
  const summary = summarise(JSON.parse(readFileSync(join(profDir, file), "utf8")));
  const md = `# tapline (node) CPU profile: streaming scenarios ${opts.scenarios.join(", ")}, ` +
    `capture ${opts.capture ? "on" : "off"}\n\nThe whole process life (start-up, checks, warm-ups and ` +
    `measured windows); profiling slows tapline down, so its rates in this run are not comparable.\n\n` +
    renderSummary(summary, 30);
  const out = join(dirname(opts.out), "stream-profile.md");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, md);
  log(`wrote ${out}`);
}

async function runTarget(
  opts: Options,
  root: string,
  dir: string,
  name: StreamTargetName,
  upstreamPort: number,
  upstreamPids: number[],
): Promise<StreamTargetResult> {
  const result: StreamTargetResult = { target: name, scenarios: [] };
  const tdir = join(dir, name);
  mkdirSync(tdir, { recursive: true });
  let target: Running | undefined;
  try {
    log(`starting ${name}`);
    target = name === "direct"
      ? { port: upstreamPort, pids: [] }
      : await startTapline(opts, root, tdir, name, upstreamPort);
    if (target.service) {
      await sleep(500);
      result.idleRssBytes = memoryBytes(target.pids, "VmRSS");
    }
    await checkServes(root, opts, target.port, name);
    if (target.logDir) {
      await waitDrained(target.logDir, 500, 5000);
      addCounts(target, countByType(target.logDir, 0, 0).total);
      truncateRecords(target.logDir);
    }
    for (const scenario of opts.scenarios) {
      const s = await runScenario(opts, root, scenario, target, upstreamPids);
      log(
        `${name} ${scenario}: ${Math.round(s.perSec)}/s, ${(s.bytesPerSec / 1048576).toFixed(1)} MiB/s` +
          (s.p50us === undefined ? "" : `, p50 ${(s.p50us / 1000).toFixed(2)} ms`) +
          (s.proxyCpuUsPerMsg === undefined ? "" : `, ${s.proxyCpuUsPerMsg.toFixed(1)} µs CPU/msg`) +
          `, load core ${s.loadCpuPercent.toFixed(0)}%` +
          (s.records === undefined ? "" : `, ${s.records}/${s.expectedRecords} records`) +
          (s.dropped ? `, ${s.dropped} dropped` : "") +
          (s.errors ? `, ${s.errors} errors` : ""),
      );
      result.scenarios.push(s);
    }
    if (target.service) result.peakRssBytes = memoryBytes(processTree(target.service.pid), "VmHWM");
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    log(`${name} failed: ${result.error}`);
  } finally {
    if (target?.service) {
      await stopService(target.service, target.profDir ? 30_000 : 5000);
      await waitForPortFree(opts.port, 5000);
      Object.assign(result, stoppedCounters(target.service.output()));
      if (target.logDir) {
        const rest = countByType(target.logDir, 0, 0).total;
        addCounts(target, rest);
        result.recordsByType = linesByTarget.get(target) ?? {};
      }
      if (target.profDir) writeProfile(opts, target.profDir);
    }
  }
  return result;
}

/** First line of a command's output, or "?". */
function version(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n")[0]?.trim() || "?";
}

async function main(): Promise<void> {
  const root = repoRoot();
  const opts = parseOptions(root);
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "tapline-stream-"));
  if (!opts.keep) onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const upstreamPort = opts.port + 1;
  log(
    `scratch dir ${dir}; proxy on core ${opts.proxyCore ?? "any"}, load and upstream on core ${opts.loadCore ?? "any"}`,
  );
  const results: StreamTargetResult[] = [];
  let upstream: Service | undefined;
  try {
    for (const port of [opts.port, upstreamPort, opts.port + 2]) await assertPortFree(port);
    upstream = startService(
      "upstream (ws + sse)",
      process.execPath,
      [join(root, "dist/bench/stream-upstream.js"), String(upstreamPort)],
      { core: opts.loadCore },
    );
    await waitListening(upstream, upstreamPort, 10_000);
    await checkServes(root, opts, upstreamPort, "upstream");
    const upstreamPids = processTree(upstream.pid);
    for (const name of opts.targets) {
      results.push(await runTarget(opts, root, dir, name, upstreamPort, upstreamPids));
    }
  } finally {
    if (upstream) await stopService(upstream);
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }
  const wsVersion = (JSON.parse(readFileSync(join(root, "node_modules/ws/package.json"), "utf8")) as {
    version: string;
  }).version;
  const md = renderStreamReport(
    {
      date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Linux ${release()}`,
      versions: [
        `node ${process.version}`,
        `deno ${version(join(root, "node_modules/.bin/deno"), ["--version"]).replace(/^deno /, "")}`,
        `bun ${version(join(root, "node_modules/.bin/bun"), ["--version"])}`,
        `ws ${wsVersion}`,
      ].join(", "),
      settings: `${opts.warmup} s warm-up, ${opts.duration} s measured per scenario; ` +
        `proxy on CPU ${opts.proxyCore ?? "any"}, load generator + upstream on CPU ${opts.loadCore ?? "any"}; ` +
        `tapline with log_jsonl capture ${opts.capture ? "on" : "OFF"}` +
        (opts.taplineArgs.length > 0 ? ` and flags \`${opts.taplineArgs.join(" ")}\`` : "") +
        (opts.cpuProf ? "; node target under --cpu-prof" : "") +
        `; total run ${Math.round((Date.now() - started) / 1000)} s`,
    },
    results,
  );
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, md);
  writeFileSync(opts.out.replace(/\.md$/, "") + ".json", JSON.stringify({ opts, results }, null, 2) + "\n");
  process.stdout.write(md);
  log(`wrote ${opts.out}`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
