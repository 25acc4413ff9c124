/**
 * The one-line view of a trace the list routes return: enough to draw a
 * table row, never a body. A trace is an exchange (an `http` record) or a
 * custom record that belongs to no exchange; frames, events and an
 * exchange's custom records come with its detail.
 */
import type { CaptureRecord } from "../shared/record.ts";
import { filterType } from "./record-kind.ts";

/** A trace in a list. */
export interface TraceSummary {
  id: string;
  time: string;
  route: string;
  /** `http`, `websocket` (an upgrade), `sse` (an event stream) or `custom`. */
  type: string;
  method?: string;
  url?: string;
  /** 0 when the exchange got no response. */
  status?: number;
  duration_ms?: number;
  request_size?: number;
  response_size?: number;
  correlation_id?: string;
  error?: string;
  client?: string;
  plugin?: string;
  tags?: Record<string, unknown>;
}

/** Whether a record is listed as a trace of its own. */
export function isTrace(record: CaptureRecord): boolean {
  return record.type === "http" || (record.type === "custom" && record.connection_id === undefined);
}

/** The summary of a trace record. */
export function traceSummary(record: CaptureRecord): TraceSummary {
  const summary: TraceSummary = {
    id: record.id,
    time: record.timestamp,
    route: record.route_name,
    type: filterType(record),
  };
  if (record.type === "http") {
    summary.method = record.request.method;
    summary.url = record.request.url;
    summary.status = record.response?.status ?? 0;
    summary.duration_ms = record.duration_ms;
    summary.request_size = record.request.body_size;
    summary.response_size = record.response?.body_size ?? 0;
    summary.client = record.client_ip;
    if (record.correlation_id !== undefined) summary.correlation_id = record.correlation_id;
    if (record.error !== undefined) summary.error = record.error;
    if (record.tags !== undefined) summary.tags = record.tags;
  } else if (record.type === "custom") {
    summary.plugin = record.plugin;
  }
  return summary;
}

/** The list's order, newest first: by time, ties by the larger id (so the order is total). Use with `sort`. */
export function newestFirst(a: TraceSummary, b: TraceSummary): number {
  if (a.time !== b.time) return a.time > b.time ? -1 : 1;
  return a.id === b.id ? 0 : a.id > b.id ? -1 : 1;
}

/**
 * Two lists of summaries as one, newest first, each id once (`first`'s copy kept), at most `max`.
 * Why: a page read from the files and the live tail overlap and either may arrive first; a page must not take
 * away a row the tail already brought (the tail is published before the files are written).
 *
 * @example
 * ```ts
 * rows = mergeSummaries(liveRows, page.traces, 5000);
 * ```
 */
export function mergeSummaries(
  first: readonly TraceSummary[],
  second: readonly TraceSummary[],
  max: number,
): TraceSummary[] {
  const byId = new Map<string, TraceSummary>();
  for (const row of [...first, ...second]) if (!byId.has(row.id)) byId.set(row.id, row);
  return [...byId.values()].sort(newestFirst).slice(0, max);
}
