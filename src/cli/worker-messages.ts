/**
 * The messages between the primary process and its `--workers` (JSON over
 * the cluster channel). Workers forward and build records; the primary
 * writes every record, serves the admin port and adds up the counters.
 */
import type { RouteSnapshot } from "../core/metrics.ts";
import type { PluginDeclaration } from "../plugins/types.ts";
import type { CaptureRecord } from "../shared/record.ts";

/** Worker → primary. */
export type WorkerMessage =
  /** Listening on every proxy address: the worker is serving. */
  | { type: "ready" }
  /** Finished records of one route, in capture order, for the primary's sinks. */
  | { type: "records"; route: string; records: CaptureRecord[] }
  /** Every counter, sent each second and once more when stopping. */
  | { type: "report"; report: WorkerReport }
  /** Stopped: every record is sent (messages arrive in order, so none is behind this one). */
  | { type: "done" };

/** Primary → worker. */
export type PrimaryMessage =
  /** Build and swap to this plugin set (the primary has already checked, swapped and saved it). */
  | { type: "plugins"; declarations: PluginDeclaration[] }
  /** Stop as on SIGTERM: drain, send the last records and report, then `done`. */
  | { type: "stop" };

/** What a worker reports. */
export interface WorkerReport {
  routes: RouteSnapshot[];
  queueDepth: number;
  captureMemoryUsed: number;
  /** Per plugin instance id: its counters in the worker's running set. */
  plugins: Record<string, Record<string, unknown>>;
}

/** A plugin declaration as it can travel: without the function that locates config errors. */
export function portableDeclaration(declaration: PluginDeclaration): PluginDeclaration {
  const { locateConfig: _dropped, ...rest } = declaration;
  return rest;
}
