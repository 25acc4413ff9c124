/**
 * HTTP/2 benchmark: h2load against nginx as an h2c reverse proxy (`listen …
 * http2`, the 1.00) and tapline on Node with HTTP/2 on, both in front of the
 * static nginx upstream, plus tapline's own HTTP/1.1 figure with the same
 * tool (`h2load --h1`). Bun and Deno answer HTTP/1.1 only (README "HTTP/2
 * and gRPC"). Proxies on CPU 1, h2load and the upstream on CPU 0; the rounds
 * alternate the targets and the report keeps the best of them.
 *
 * @example
 * node dist/bench/h2.js                      # 3 rounds, 10 s runs after 3 s of warm-up
 * node dist/bench/h2.js --rounds 1 --duration 3
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { repoRoot, scratchDir } from "./env.ts";
import { upstreamConfig } from "./nginx.ts";
import { assertPortFree, type Service, startService, stopService, waitListening } from "./procs.ts";
import { taplineCommand } from "./targets.ts";

/** A load: connections × concurrent streams per connection, and which protocol. */
interface Scenario {
  id: string;
  label: string;
  args: string[];
  /** Run it on these targets only. */
  targets: readonly TargetId[];
}

type TargetId = "nginx" | "node";

const SCENARIOS: readonly Scenario[] = [
  { id: "c1m100", label: "h2, 1 connection × 100 streams", args: ["-c", "1", "-m", "100"], targets: ["nginx", "node"] },
  {
    id: "c32m10",
    label: "h2, 32 connections × 10 streams",
    args: ["-c", "32", "-m", "10"],
    targets: ["nginx", "node"],
  },
  { id: "h1c32", label: "HTTP/1.1, 32 connections", args: ["--h1", "-c", "32", "-m", "1"], targets: ["node"] },
];

/** Runs h2load pinned to CPU 0; its requests per second. */
function h2load(url: string, scenario: Scenario, duration: number, warmup: number): number {
  const result = spawnSync("taskset", [
    "-c",
    "0",
    "h2load",
    "-D",
    String(duration),
    "--warm-up-time",
    String(warmup),
    "-t",
    "1",
    ...scenario.args,
    "-H",
    "user-agent: h2load",
    "-H",
    "accept: */*",
    url,
  ], { encoding: "utf8", timeout: (duration + warmup + 30) * 1000 });
  const out = `${result.stdout}\n${result.stderr}`;
  const rate = /finished in [^,]+, ([\d.]+) req\/s/.exec(out);
  const failed = /requests: .* (\d+) failed/.exec(out);
  if (!rate) throw new Error(`h2load printed no rate for ${scenario.label}:\n${out.slice(-1500)}`);
  if (failed && Number(failed[1]) > 0) throw new Error(`h2load: ${failed[1]} requests failed (${scenario.label})`);
  return Number(rate[1]);
}

/** nginx as an h2c reverse proxy to the upstream, with the same settings as the HTTP/1.1 baseline. */
function nginxH2cConfig(prefix: string, port: number, upstreamPort: number): string[] {
  mkdirSync(prefix, { recursive: true });
  const conf = join(prefix, "nginx.conf");
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  keepalive_requests 100000000;
  http2_max_concurrent_streams 128;
  upstream bench_upstream { server 127.0.0.1:${upstreamPort}; keepalive 64; keepalive_requests 100000000; }
  server {
    listen 127.0.0.1:${port} http2;
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_max_temp_file_size 0;
    }
  }
}
`,
  );
  return ["-p", prefix, "-c", conf, "-e", join(prefix, "error.log")];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "3" },
      duration: { type: "string", default: "10" },
      warmup: { type: "string", default: "3" },
      port: { type: "string", default: "18380" },
      out: { type: "string", default: "bench/results/h2.md" },
    },
  });
  const root = repoRoot();
  const [rounds, duration, warmup, port] = [values.rounds, values.duration, values.warmup, values.port].map(Number);
  const upstreamPort = port! + 1;
  await assertPortFree(port!);
  await assertPortFree(upstreamPort);
  const dir = scratchDir("tapline-h2-bench-", false);
  const services: Service[] = [];
  const stopAll = async () => {
    for (const service of services.splice(0)) await stopService(service);
  };
  try {
    const upstream = upstreamConfig(join(dir, "upstream"), upstreamPort);
    services.push(startService("nginx upstream", "nginx", upstream.args, { core: "0" }));
    await waitListening(services[0]!, upstreamPort, 10_000);
    const best = new Map<string, number>();
    for (let round = 1; round <= rounds!; round++) {
      for (const target of ["nginx", "node"] as const) {
        const [cmd, args] = target === "nginx"
          ? ["nginx", nginxH2cConfig(join(dir, `nginx-${round}`), port!, upstreamPort)]
          : taplineCommand(
            "node",
            root,
            `name=bench,listen_http=127.0.0.1:${port},upstream=http://127.0.0.1:${upstreamPort},log_jsonl=${dir}/logs-${round}/`,
          );
        const service = startService(target === "nginx" ? "nginx h2c" : "tapline (node)", cmd, args, {
          core: "1",
          cwd: root,
        });
        services.push(service);
        await waitListening(service, port!, 30_000);
        for (const scenario of SCENARIOS.filter((s) => s.targets.includes(target))) {
          const rate = h2load(`http://127.0.0.1:${port}/1k`, scenario, duration!, warmup!);
          process.stderr.write(`round ${round} ${target} ${scenario.id}: ${Math.round(rate)} req/s\n`);
          const key = `${target} ${scenario.id}`;
          best.set(key, Math.max(best.get(key) ?? 0, rate));
        }
        await stopService(service);
        services.splice(services.indexOf(service), 1);
      }
    }
    const report = render(best, { rounds: rounds!, duration: duration!, warmup: warmup! });
    process.stdout.write(report);
    mkdirSync(join(root, "bench/results"), { recursive: true });
    writeFileSync(join(root, values.out), report);
  } finally {
    await stopAll();
  }
}

function render(best: Map<string, number>, run: { rounds: number; duration: number; warmup: number }): string {
  const nginx = (id: string) => best.get(`nginx ${id}`) ?? 0;
  const rows = SCENARIOS.flatMap((scenario) =>
    scenario.targets.map((target) => {
      const rate = best.get(`${target} ${scenario.id}`) ?? 0;
      const base = scenario.id === "h1c32" ? 0 : nginx(scenario.id);
      const ratio = base > 0 ? (rate / base).toFixed(2) : "—";
      const name = target === "nginx" ? "nginx (h2c proxy)" : "tapline, Node";
      return `| ${name} | ${scenario.label} | ${Math.round(rate).toLocaleString("en-US")} | ${ratio} |`;
    })
  );
  const versions = execFileSync("h2load", ["--version"], { encoding: "utf8" }).split("\n")[0];
  return [
    `h2load (${versions}), GET /1k, best of ${run.rounds} alternating rounds of ${run.duration} s after ${run.warmup} s` +
    " of warm-up; proxies on CPU 1, h2load and the nginx upstream on CPU 0; tapline with log_jsonl capture on.",
    "",
    "| target | load | req/s | × nginx h2c |",
    "| ------ | ---- | ----: | ----------: |",
    ...rows,
    "",
  ].join("\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
