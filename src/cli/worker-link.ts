/**
 * The worker side of `--workers`: its capture records go to the primary
 * instead of files (one sink per route that captures), and it reports its
 * counters every second so the primary's metrics cover all workers.
 */
import { type Metrics, routeSnapshot } from "../core/metrics.ts";
import type { PluginGenerations } from "../plugins/generations.ts";
import type { ParentChannel } from "../runtime/types.ts";
import type { CaptureRecord } from "../shared/record.ts";
import type { RecordSink } from "../sinks/types.ts";
import type { Config } from "../config/types.ts";
import type { OpenSinks } from "./sinks.ts";
import type { WorkerMessage, WorkerReport } from "./worker-messages.ts";

/** How often a worker reports its counters, in ms. */
export const REPORT_INTERVAL_MS = 1000;

/** A sink that hands each batch to the primary, which writes it to the route's real sinks. */
export class PrimarySink implements RecordSink {
  readonly name: string;
  readonly #route: string;
  readonly #parent: ParentChannel;

  constructor(route: string, parent: ParentChannel) {
    this.name = `worker ${parent.index} -> writer (${route})`;
    this.#route = route;
    this.#parent = parent;
  }

  writeBatch(records: readonly CaptureRecord[]): Promise<void> {
    const message: WorkerMessage = { type: "records", route: this.#route, records: [...records] };
    return this.#parent.send(message);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Everything a worker counts, as one report. */
export function workerReport(metrics: Metrics, generations: PluginGenerations): WorkerReport {
  const plugins: WorkerReport["plugins"] = {};
  for (const instance of generations.current.instances) plugins[instance.id] = { ...instance.metrics };
  return {
    routes: [...metrics.routes.values()].map(routeSnapshot),
    queueDepth: metrics.queueDepth(),
    captureMemoryUsed: metrics.captureMemoryUsed(),
    plugins,
  };
}

/**
 * Sends a report every second; the returned function stops the timer and
 * sends the last one.
 */
export function startReporting(parent: ParentChannel, report: () => WorkerReport): () => Promise<void> {
  const send = () => parent.send({ type: "report", report: report() } satisfies WorkerMessage);
  const timer = setInterval(() => void send().catch(() => {}), REPORT_INTERVAL_MS);
  return async () => {
    clearInterval(timer);
    await send().catch(() => {});
  };
}

/** A worker's sinks: each route that captures sends its records to the primary. */
export function primarySinks(config: Config, parent: ParentChannel): OpenSinks {
  const open: OpenSinks = { byProxy: new Map(), all: [], paths: [], readable: { jsonl: [], sqlite: [] } };
  for (const proxy of config.proxies) {
    if (proxy.logJsonl === undefined && proxy.logSqlite === undefined) continue;
    const sink = new PrimarySink(proxy.name, parent);
    open.byProxy.set(proxy.name, [sink]);
    open.all.push(sink);
  }
  return open;
}
