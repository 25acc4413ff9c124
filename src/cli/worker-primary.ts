/**
 * `--workers N` in the primary process: binds nothing itself but fixes every
 * proxy address (a port 0 becomes one free port that all workers share),
 * forks the workers, and writes what they capture through one writer.
 * `workerSetup` is the other end: what a worker reads from its environment.
 */
import type { Config } from "../config/types.ts";
import type { Metrics } from "../core/metrics.ts";
import type { ListenAddress, Runtime, TlsMaterial } from "../runtime/types.ts";
import type { Logger } from "../shared/logger.ts";
import type { CaptureRecord } from "../shared/record.ts";
import type { RecordSink } from "../sinks/types.ts";
import { WorkerPool } from "./worker-pool.ts";
import { WorkerWriter } from "./worker-writer.ts";

/** Environment a worker is started with (beside TAPLINE_INTERNAL_WORKER, its number). */
const ENV = {
  args: "TAPLINE_INTERNAL_WORKER_ARGS",
  listen: "TAPLINE_INTERNAL_WORKER_LISTEN",
  tls: "TAPLINE_INTERNAL_WORKER_TLS",
} as const;

/** Per proxy: the `host:port` each scheme listens on. */
type Addresses = Record<string, { http?: string; https?: string }>;

/** How many workers `config` asks for (`auto` = one per CPU); 1 means no workers. */
export function workerCount(config: Config, runtime: Runtime): number {
  return config.workers === 0 ? runtime.cluster.cpuCount() : config.workers;
}

/** What the primary runs its workers with. */
export interface WorkerStart {
  runtime: Runtime;
  logger: Logger;
  metrics: Metrics;
  /** The command line, which each worker resolves again (same config file, same environment). */
  argv: readonly string[];
  sinks: ReadonlyMap<string, readonly RecordSink[]>;
  tls: TlsMaterial | undefined;
  onRecords?: (records: readonly CaptureRecord[]) => void;
}

/** Running workers and the writer of their records. */
export interface Workers {
  pool: WorkerPool;
  writer: WorkerWriter;
  /** Every proxy endpoint as the workers bound it. */
  listening: Array<{ route: string; scheme: "http" | "https"; address: string }>;
}

/** Forks the workers and resolves once every one of them listens. */
export async function startWorkers(config: Config, start: WorkerStart): Promise<Workers> {
  const { runtime, logger, metrics } = start;
  const addresses: Addresses = {};
  const listening: Workers["listening"] = [];
  for (const proxy of config.proxies) {
    const entry: Addresses[string] = {};
    for (const scheme of ["http", "https"] as const) {
      const address = scheme === "http" ? proxy.listenHttp : proxy.listenHttps;
      if (!address) continue;
      entry[scheme] = await fixedAddress(address, runtime);
      listening.push({ route: proxy.name, scheme, address: entry[scheme] });
    }
    addresses[proxy.name] = entry;
    metrics.route(proxy.name);
  }
  const writer = new WorkerWriter({
    sinks: start.sinks,
    metrics,
    maxPending: config.captureQueueSize,
    logger,
    ...(start.onRecords ? { onRecords: start.onRecords } : {}),
  });
  const pool = await WorkerPool.start({
    count: workerCount(config, runtime),
    cluster: runtime.cluster,
    env: {
      [ENV.args]: JSON.stringify(start.argv),
      [ENV.listen]: JSON.stringify(addresses),
      ...(start.tls ? { [ENV.tls]: JSON.stringify(start.tls) } : {}),
    },
    logger,
    timeoutMs: config.shutdownTimeout + 10_000,
    onRecords: (route, records) => writer.write(route, records),
    onReport: (worker, report) => writer.report(worker, report),
    onGone: (worker) => writer.gone(worker),
  });
  metrics.workers = { count: () => pool.pids.length, restarts: () => pool.restarts };
  return { pool, writer, listening };
}

/**
 * `address` with port 0 replaced by a port that is free now, so that every
 * worker binds the same one (each would otherwise get its own).
 */
async function fixedAddress(address: ListenAddress, runtime: Runtime): Promise<string> {
  if (address.port !== 0) return address.text;
  const probe = await runtime.serveFetch(() => new Response(null, { status: 503 }), address);
  const bound = probe.address;
  probe.closeAll();
  await probe.stop();
  return bound;
}

/** What a worker reads from its environment: the command line, and the addresses and certificate to use. */
export interface WorkerSetup {
  argv: string[];
  listen(route: string, scheme: "http" | "https", configured: ListenAddress): ListenAddress;
  tls: TlsMaterial | undefined;
}

/** The worker's setup, or undefined in a process that is not a worker. */
export function workerSetup(env: Record<string, string | undefined>): WorkerSetup | undefined {
  const args = env[ENV.args];
  if (args === undefined) return undefined;
  const addresses = JSON.parse(env[ENV.listen] ?? "{}") as Addresses;
  const tls = env[ENV.tls];
  return {
    argv: JSON.parse(args) as string[],
    listen(route, scheme, configured) {
      const text = addresses[route]?.[scheme];
      if (text === undefined) return configured;
      const colon = text.lastIndexOf(":");
      return { ...configured, port: Number(text.slice(colon + 1)), text };
    },
    tls: tls === undefined ? undefined : JSON.parse(tls) as TlsMaterial,
  };
}
