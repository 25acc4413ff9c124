/**
 * What a capturing tapline wrote during a streaming run: JSONL records by
 * type (inside a time window), and its own written/dropped counters from the
 * admin metrics endpoint.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { forEachLineHead } from "./jsonl-stats.ts";

/** Record counts per `type` ("http", "websocket_frame", "sse_event", ...). */
export interface TypeCounts {
  /** Every line of each type. */
  total: Record<string, number>;
  /** Lines whose `timestamp` lies in the window. */
  inWindow: Record<string, number>;
}

const HEAD_BYTES = 512;
const TYPE_RE = /"type":"([a-z_]+)"/;
const TIMESTAMP_RE = /"timestamp":"([^"]+)"/;

/**
 * Count the records of every `*.jsonl` under `dir` by type, and those whose
 * `timestamp` (frame or event time) lies within [`sinceMs`, `untilMs`]. Only
 * the head of each line is parsed (`type` and `timestamp` come first), so a
 * 1 MiB frame record costs no more than a small one.
 */
export function countByType(dir: string, sinceMs: number, untilMs: number): TypeCounts {
  const counts: TypeCounts = { total: {}, inWindow: {} };
  if (!existsSync(dir)) return counts;
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".jsonl"))) {
    forEachLineHead(join(dir, name), HEAD_BYTES, (head) => {
      const type = TYPE_RE.exec(head)?.[1] ?? "unknown";
      counts.total[type] = (counts.total[type] ?? 0) + 1;
      const ts = TIMESTAMP_RE.exec(head)?.[1];
      const t = ts === undefined ? NaN : Date.parse(ts);
      if (t >= sinceMs && t <= untilMs) counts.inWindow[type] = (counts.inWindow[type] ?? 0) + 1;
    });
  }
  return counts;
}

/** tapline's capture counters summed over routes, from its Prometheus metrics. */
export interface CaptureCounters {
  written: number;
  dropped: number;
  /** Dropped by reason, e.g. `{ queue_full: 12 }`. */
  droppedBy: Record<string, number>;
  /** Frames relayed (both directions) and SSE events seen, as tapline counts them. */
  frames: number;
  sseEvents: number;
}

/** Read the admin endpoint's metrics (sending `headers`, e.g. the admin token); undefined if it does not answer. */
export async function captureCounters(
  adminPort: number,
  path = "/_metrics",
  headers: Record<string, string> = {},
): Promise<CaptureCounters | undefined> {
  let text: string;
  try {
    const res = await fetch(`http://127.0.0.1:${adminPort}${path}`, { headers, signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    text = await res.text();
  } catch {
    return undefined;
  }
  const out: CaptureCounters = { written: 0, dropped: 0, droppedBy: {}, frames: 0, sseEvents: 0 };
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? ([0-9.eE+-]+)$/.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    switch (m[1]) {
      case "tapline_records_written_total":
        out.written += value;
        break;
      case "tapline_capture_dropped_total": {
        out.dropped += value;
        const reason = /reason="([^"]*)"/.exec(m[2] ?? "")?.[1] ?? "?";
        out.droppedBy[reason] = (out.droppedBy[reason] ?? 0) + value;
        break;
      }
      case "tapline_websocket_frames_total":
        out.frames += value;
        break;
      case "tapline_sse_events_total":
        out.sseEvents += value;
        break;
    }
  }
  return out;
}

/** `after - before`, field by field (counters over one scenario). */
export function counterDelta(before: CaptureCounters, after: CaptureCounters): CaptureCounters {
  const droppedBy: Record<string, number> = {};
  for (const [reason, n] of Object.entries(after.droppedBy)) {
    const d = n - (before.droppedBy[reason] ?? 0);
    if (d > 0) droppedBy[reason] = d;
  }
  return {
    written: after.written - before.written,
    dropped: after.dropped - before.dropped,
    droppedBy,
    frames: after.frames - before.frames,
    sseEvents: after.sseEvents - before.sseEvents,
  };
}
