/**
 * Where tapline's time goes: runs it under `node --cpu-prof` (or
 * `bun --cpu-prof`; `bun-minimal` profiles bench/minimal-bun-proxy.ts, the
 * floor tapline on Bun is compared with), pinned like the benchmark, while
 * wrk loads it, then prints the top self-time functions and areas.
 *
 * Usage: node dist/bench/profile.js [--runtime node|bun|bun-minimal] [--path /1k] [--method GET|POST]
 *   [--seconds 5] [--connections 32] [--top 25] [--out FILE]
 *   [--capture on|off] [--tapline-args="--max-body-size 64KB"]
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { renderSummary, summarise } from "./cpuprofile.ts";
import { upstreamConfig } from "./nginx.ts";
import { assertPortFree, onCleanup, type Service, startService, stopService, waitListening } from "./procs.ts";
import { taplineCommand } from "./targets.ts";
import { runWrk } from "./wrk.ts";

function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.endsWith(join("dist", "bench")) ? resolve(here, "../..") : resolve(here, "..");
}

async function main(): Promise<void> {
  const root = repoRoot();
  const { values } = parseArgs({
    options: {
      path: { type: "string", default: "/1k" },
      method: { type: "string", default: "GET" },
      seconds: { type: "string", default: "5" },
      connections: { type: "string", default: "32" },
      top: { type: "string", default: "25" },
      port: { type: "string", default: "18290" },
      out: { type: "string", default: join(root, "bench/results/profile.md") },
      capture: { type: "string", default: "on" },
      runtime: { type: "string", default: "node" },
      "tapline-args": { type: "string", default: "" },
    },
  });
  const method = values.method === "POST" ? "POST" : "GET";
  const runtime = values.runtime;
  if (runtime !== "node" && runtime !== "bun" && runtime !== "bun-minimal") {
    throw new Error(`Invalid --runtime "${runtime}": expected node, bun or bun-minimal`);
  }
  const port = Number(values.port);
  const dir = mkdtempSync(join(tmpdir(), "tapline-profile-"));
  chmodSync(dir, 0o755);
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const profDir = join(dir, "prof");
  let upstream: Service | undefined;
  let proxy: Service | undefined;
  try {
    const inst = upstreamConfig(join(dir, "upstream"), port + 1);
    await assertPortFree(port);
    await assertPortFree(port + 1);
    upstream = startService("upstream (nginx)", "nginx", inst.args, { core: "0" });
    await waitListening(upstream, port + 1, 10_000);
    const upstreamUrl = `http://127.0.0.1:${port + 1}`;
    const capture = values.capture !== "off";
    const spec = `name=bench,listen_http=127.0.0.1:${port},upstream=${upstreamUrl}` +
      (capture ? `,log_jsonl=${dir}/logs/` : "");
    const profiling = ["--cpu-prof", "--cpu-prof-dir", profDir];
    const bun = join(root, "node_modules/.bin/bun");
    const [cmd, args] = runtime === "node"
      ? taplineCommand("node", root, spec, profiling)
      : runtime === "bun"
      ? [bun, [...profiling, join(root, "src/cli/main.ts"), "--proxy", spec]]
      : [bun, [...profiling, join(root, "bench/minimal-bun-proxy.ts"), String(port), upstreamUrl]];
    const extra = runtime === "bun-minimal" ? [] : values["tapline-args"].split(/\s+/).filter(Boolean);
    proxy = startService(`${runtime} (profiled)`, cmd, [...args, ...extra], { core: "1", cwd: root });
    await proxy.waitFor(runtime === "bun-minimal" ? "ready" : `"msg":"ready"`, 30_000);
    const r = await runWrk({
      url: `http://127.0.0.1:${port}${values.path}`,
      connections: Number(values.connections),
      threads: 1,
      seconds: Number(values.seconds),
      method,
      core: "0",
    });
    // The profile is written when the process exits normally (tapline exits on SIGTERM).
    await stopService(proxy, 15_000);
    const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error(`No .cpuprofile in ${profDir}: did tapline exit cleanly on SIGTERM?`);
    const summary = summarise(JSON.parse(readFileSync(join(profDir, file), "utf8")));
    const flags = extra.length > 0 ? `, flags \`${extra.join(" ")}\`` : "";
    const md =
      `# ${
        runtime === "bun-minimal" ? "minimal Bun proxy" : `tapline (${runtime})`
      } CPU profile: ${method} ${values.path}, c${values.connections}, ` +
      `${values.seconds} s, capture ${capture ? "on" : "off"}${flags}\n\n` +
      `${Math.round(r.requests / (r.duration_us / 1e6))} req/s under the profiler (profiling slows it down).\n\n` +
      renderSummary(summary, Number(values.top));
    mkdirSync(dirname(resolve(values.out)), { recursive: true });
    writeFileSync(resolve(values.out), md);
    process.stdout.write(md);
  } finally {
    if (proxy) await stopService(proxy);
    if (upstream) await stopService(upstream);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
