/**
 * The primary's half of capture under `--workers`: it writes the records
 * every worker sends to the route's sinks (so each file keeps one writer and
 * one order), feeds the live tail, and keeps the metrics the admin port
 * serves equal to the sum over all workers, past ones included.
 */
import { addRouteSnapshot, type Metrics, RouteMetrics, routeSnapshot } from "../core/metrics.ts";
import type { Logger } from "../shared/logger.ts";
import type { CaptureRecord } from "../shared/record.ts";
import type { RecordSink } from "../sinks/types.ts";
import type { WorkerReport } from "./worker-messages.ts";

/** What the writer writes to and counts into. */
export interface WorkerWriterOptions {
  sinks: ReadonlyMap<string, readonly RecordSink[]>;
  /** The metrics the admin port serves. */
  metrics: Metrics;
  /** Most records waiting for a sink; past it a batch is dropped and counted (`queue_full`). */
  maxPending: number;
  logger: Logger;
  /** Called with each batch as it arrives (the live tail). */
  onRecords?: (records: readonly CaptureRecord[]) => void;
}

/** Writes the workers' records and adds up their counters. */
export class WorkerWriter {
  readonly #options: WorkerWriterOptions;
  /** One chain of writes per sink: batches reach a file in the order they arrived. */
  readonly #chains = new Map<RecordSink, Promise<void>>();
  #pending = 0;
  /** Drops counted here, per route (workers report their own, which are added on top). */
  readonly #writeErrors = new Map<string, number>();
  readonly #queueFull = new Map<string, number>();
  readonly #latest = new Map<number, WorkerReport>();
  /** Counters of workers that ended, so totals never go back. */
  readonly #retired = new Map<string, RouteMetrics>();
  readonly #retiredPlugins = new Map<string, Record<string, unknown>>();

  constructor(options: WorkerWriterOptions) {
    this.#options = options;
    const { metrics } = options;
    metrics.queueDepth = () => this.#pending + this.#sumLatest((report) => report.queueDepth);
    metrics.captureMemoryUsed = () => this.#sumLatest((report) => report.captureMemoryUsed);
  }

  /** Queues `records` of `route` for each of the route's sinks. */
  write(route: string, records: CaptureRecord[]): void {
    const sinks = this.#options.sinks.get(route) ?? [];
    if (this.#pending + records.length > this.#options.maxPending) {
      this.#queueFull.set(route, (this.#queueFull.get(route) ?? 0) + records.length);
      this.#publish(route);
      return;
    }
    this.#options.onRecords?.(records);
    for (const sink of sinks) {
      this.#pending += records.length;
      const previous = this.#chains.get(sink) ?? Promise.resolve();
      const next = previous.then(async () => {
        try {
          await sink.writeBatch(records);
          this.#options.metrics.route(route).recordsWritten += records.length;
        } catch (error) {
          this.#writeErrors.set(route, (this.#writeErrors.get(route) ?? 0) + records.length);
          this.#publish(route);
          this.#options.logger.error("Failed to write captured records", {
            sink: sink.name,
            records: records.length,
            error,
          });
        } finally {
          this.#pending -= records.length;
        }
      });
      this.#chains.set(sink, next);
    }
  }

  /** Resolves when every queued batch is written. */
  async drain(): Promise<void> {
    while (this.#pending > 0) await Promise.all([...this.#chains.values()]);
  }

  /** A worker's latest counters. */
  report(worker: number, report: WorkerReport): void {
    this.#latest.set(worker, report);
    for (const snapshot of report.routes) this.#publish(snapshot.route);
  }

  /** A worker ended: its last counters stay in the totals (without its gauges). */
  gone(worker: number): void {
    const last = this.#latest.get(worker);
    this.#latest.delete(worker);
    if (!last) return;
    for (const snapshot of last.routes) {
      let retired = this.#retired.get(snapshot.route);
      if (!retired) this.#retired.set(snapshot.route, retired = new RouteMetrics(snapshot.route));
      addRouteSnapshot(retired, snapshot, false);
      this.#publish(snapshot.route);
    }
    for (const [id, counters] of Object.entries(last.plugins)) {
      this.#retiredPlugins.set(id, addCounters(this.#retiredPlugins.get(id) ?? {}, counters));
    }
  }

  /** One plugin instance's counters summed over the workers (its `plugin` name kept). */
  pluginCounters(id: string, own: object): Record<string, unknown> {
    let sum = addCounters({}, { ...own });
    const retired = this.#retiredPlugins.get(id);
    if (retired) sum = addCounters(sum, retired);
    for (const report of this.#latest.values()) {
      const counters = report.plugins[id];
      if (counters) sum = addCounters(sum, counters);
    }
    return sum;
  }

  #sumLatest(pick: (report: WorkerReport) => number): number {
    let sum = 0;
    for (const report of this.#latest.values()) sum += pick(report);
    return sum;
  }

  /** Rebuilds the served counters of `route` from the workers' reports and the writer's own counts. */
  #publish(route: string): void {
    const { metrics } = this.#options;
    const current = metrics.route(route);
    const fresh = new RouteMetrics(route);
    fresh.recordsWritten = current.recordsWritten;
    fresh.captureDropped.queue_full = this.#queueFull.get(route) ?? 0;
    fresh.captureDropped.write_error = this.#writeErrors.get(route) ?? 0;
    const retired = this.#retired.get(route);
    if (retired) addRouteSnapshot(fresh, routeSnapshot(retired));
    for (const report of this.#latest.values()) {
      for (const snapshot of report.routes) if (snapshot.route === route) addRouteSnapshot(fresh, snapshot);
    }
    metrics.routes.set(route, fresh);
  }
}

/** `a` plus `b`, number by number (nested objects too); other values are taken from `a`, else `b`. */
function addCounters(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const mine = out[key];
    if (typeof value === "number") out[key] = (typeof mine === "number" ? mine : 0) + value;
    else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      out[key] = addCounters((mine ?? {}) as Record<string, unknown>, value as Record<string, unknown>);
    } else if (!(key in out)) out[key] = value;
  }
  return out;
}
