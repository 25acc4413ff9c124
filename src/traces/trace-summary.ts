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
