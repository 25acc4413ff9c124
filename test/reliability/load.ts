/**
 * A load generator for the reliability runs: `total` GETs over `connections`
 * keep-alive connections, each latency measured, failures counted (never
 * thrown), optionally stopped early.
 */
import { Agent, request } from "node:http";

/** What a run did. */
export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  /** Latencies of answered requests, milliseconds, sorted. */
  latencies: number[];
  /** Paths answered 200, with the time (performance.now()) the answer ended. */
  answered: Array<{ path: string; at: number }>;
}

/** The value at quantile `q` (0..1) of sorted numbers. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** One GET, resolved with its status (0 for a failure) and latency. */
function get(agent: Agent, port: number, path: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, agent, timeout: 30_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      res.on("error", () => resolve({ status: 0, ms: performance.now() - started }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ status: 0, ms: performance.now() - started }));
    req.end();
  });
}

/** Sends `total` GETs to `/<prefix>/<n>` with `connections` at a time; `stop()` ends it early. */
export async function load(
  port: number,
  options: { total: number; connections: number; prefix: string; stop?: () => boolean },
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const result: LoadResult = { sent: 0, ok: 0, failed: 0, latencies: [], answered: [] };
  let next = 0;
  const worker = async () => {
    while (next < options.total && !options.stop?.()) {
      const path = `/${options.prefix}/${next++}`;
      result.sent++;
      const { status, ms } = await get(agent, port, path);
      if (status === 200) {
        result.ok++;
        result.latencies.push(ms);
        result.answered.push({ path, at: performance.now() });
      } else result.failed++;
    }
  };
  try {
    await Promise.all(Array.from({ length: options.connections }, worker));
  } finally {
    agent.destroy();
  }
  result.latencies.sort((a, b) => a - b);
  return result;
}

/** Peak resident memory of a process so far (Linux VmHWM), in MB, or undefined elsewhere. */
export async function peakRssMb(pid: number): Promise<number | undefined> {
  try {
    const { readFile } = await import("node:fs/promises");
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}
