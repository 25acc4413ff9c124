/**
 * The kind of trace a record belongs to, as the filter's `~t` and the trace
 * list name it. Its own module, free of the filter engine, so the web
 * viewer's bundle can share it.
 */
import type { CaptureRecord } from "../shared/record.ts";

/** Record types a filter names (`~t`): a WebSocket upgrade and its frames are both `websocket`. */
export const FILTER_TYPES = ["http", "websocket", "sse", "grpc", "custom"] as const;
export type FilterType = typeof FILTER_TYPES[number];

/** The type a filter sees: an upgrade exchange is `websocket`, an event-stream exchange `sse`. */
export function filterType(record: CaptureRecord): FilterType {
  switch (record.type) {
    case "http":
      if (record.response?.status === 101) return "websocket";
      if (record.grpc !== undefined) return "grpc";
      return record.sse_events !== undefined && record.sse_events >= 0 ? "sse" : "http";
    case "websocket_frame":
      return "websocket";
    case "sse_event":
      return "sse";
    case "grpc_message":
      return "grpc";
    default:
      return "custom";
  }
}
