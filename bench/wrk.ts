/**
 * Runs wrk with bench/wrk/report.lua and parses its machine-readable summary.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { track, untrack } from "./procs.ts";

/** wrk's summary of one run; latencies in microseconds. */
export interface WrkResult {
  requests: number;
  duration_us: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  lat_mean_us: number;
  lat_p50_us: number;
  lat_p90_us: number;
  lat_p99_us: number;
  lat_max_us: number;
}

/** One wrk invocation. */
export interface WrkOptions {
  url: string;
  connections: number;
  threads: number;
  seconds: number;
  method?: "GET" | "POST";
  bodySize?: number;
  /** Extra request headers, `"Name: value"` each (wrk `-H`). */
  headers?: string[];
  /** CPU list for taskset, e.g. "0"; undefined runs unpinned. */
  core?: string;
}

/** The script sits in the source tree; dist/bench/ has no copy of it. */
function scriptPath(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  return here.includes("/dist/bench/")
    ? here.replace("/dist/bench/", "/bench/") + "wrk/report.lua"
    : here + "wrk/report.lua";
}

/** Run wrk to completion and return its summary; rejects if wrk fails or prints none. */
export function runWrk(opts: WrkOptions): Promise<WrkResult> {
  const wrkArgs = [
    "-t",
    String(opts.threads),
    "-c",
    String(opts.connections),
    "-d",
    `${opts.seconds}s`,
    "--timeout",
    "10s",
    // Real clients send both; without them Bun's fetch would add its own, so tapline on Bun takes its slower
    // node:http path for such requests (about -14% at 1 KiB), which is not what a typical request costs.
    "-H",
    "User-Agent: wrk",
    "-H",
    "Accept: */*",
    ...(opts.headers ?? []).flatMap((h) => ["-H", h]),
    "-s",
    scriptPath(),
    opts.url,
  ];
  const [cmd, args] = opts.core === undefined ? ["wrk", wrkArgs] : ["taskset", ["-c", opts.core, "wrk", ...wrkArgs]];
  const env = {
    ...process.env,
    BENCH_METHOD: opts.method ?? "GET",
    BENCH_BODY_SIZE: String(opts.bodySize ?? 1024),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args as string[], { env, stdio: ["ignore", "pipe", "pipe"] });
    track(child);
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      untrack(child);
      const line = out.split("\n").find((l) => l.startsWith("WRKJSON "));
      if (code !== 0 || !line) {
        reject(new Error(`wrk failed for ${opts.url} (exit ${code}): ${out.trim().slice(-500)}`));
        return;
      }
      resolve(JSON.parse(line.slice("WRKJSON ".length)) as WrkResult);
    });
  });
}

/** Sum of wrk's socket and status errors. */
export function errorCount(r: WrkResult): number {
  const e = r.errors;
  return e.connect + e.read + e.write + e.status + e.timeout;
}
