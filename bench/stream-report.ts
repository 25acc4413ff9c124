/**
 * The streaming benchmark's markdown report: a summary per target with
 * ratios to `direct`, one row per target and scenario, and the records each
 * capturing target wrote.
 */
import type { StreamScenarioName } from "./stream-scenarios.ts";

export const STREAM_TARGET_NAMES = ["direct", "node", "deno", "bun"] as const;
export type StreamTargetName = (typeof STREAM_TARGET_NAMES)[number];

/** One measured window of one scenario against one target. */
export interface StreamScenarioResult {
  scenario: StreamScenarioName;
  label: string;
  /** Echoed WebSocket messages (round trips) or received SSE events. */
  messages: number;
  /** Payload bytes the client received. */
  bytes: number;
  seconds: number;
  perSec: number;
  bytesPerSec: number;
  p50us?: number;
  p99us?: number;
  errors: number;
  /** Proxy CPU (user + system, whole process tree) per message, and over wall time (100 = one core). */
  proxyCpuUsPerMsg?: number;
  proxyCpuPercent?: number;
  /** Upstream + load generator CPU over wall time: near 100 means the load core was the limit. */
  loadCpuPercent: number;
  /** Anything else busy on the machine during the window (noise). */
  otherCpuPercent: number;
  /** Records of the scenario's type (websocket_frame / sse_event) timestamped inside the window. */
  records?: number;
  /** What complete capture would have written in the window: 2 frames per round trip, 1 record per event. */
  expectedRecords?: number;
  /** Records tapline dropped during the scenario (warm-up included), from its admin metrics. */
  dropped?: number;
  droppedBy?: Record<string, number>;
  /** How long after the window the JSONL files kept growing. */
  captureLagMs?: number;
}

/** Everything measured for one target. */
export interface StreamTargetResult {
  target: StreamTargetName;
  error?: string;
  idleRssBytes?: number;
  peakRssBytes?: number;
  /** tapline's totals over its whole life, from its `{"msg":"stopped"}` line. */
  recordsWritten?: number;
  recordsDropped?: number;
  /** JSONL lines by record type over every measured window and warm-up. */
  recordsByType?: Record<string, number>;
  scenarios: StreamScenarioResult[];
}

/** Run metadata printed above the tables. */
export interface StreamReportMeta {
  date: string;
  machine: string;
  versions: string;
  settings: string;
}

const MiB = 1024 * 1024;

function find(
  results: StreamTargetResult[],
  target: StreamTargetName,
  s: StreamScenarioName,
): StreamScenarioResult | undefined {
  return results.find((r) => r.target === target)?.scenarios.find((x) => x.scenario === s);
}

const fmtInt = (n: number | undefined) => n === undefined ? "—" : Math.round(n).toLocaleString("en-US");
const fmtRatio = (n: number | undefined, base: number | undefined) =>
  n === undefined || !base ? "—" : (n / base).toFixed(2);
const fmtMs = (us: number | undefined) => us === undefined ? "—" : `${(us / 1000).toFixed(2)} ms`;
const fmtMiB = (b: number | undefined) => b === undefined ? "—" : `${(b / MiB).toFixed(1)} MiB`;
const fmt1 = (n: number | undefined) => n === undefined ? "—" : n.toFixed(1);

/** The scenario's headline number: MiB/s for 1 MiB messages, messages or events per second otherwise. */
export function headline(s: StreamScenarioResult): string {
  if (s.scenario === "ws-1m") return `${(s.bytesPerSec / MiB).toFixed(1)} MiB/s`;
  return `${fmtInt(s.perSec)} ${s.scenario === "sse" ? "events/s" : "msg/s"}`;
}

function headlineValue(s: StreamScenarioResult | undefined): number | undefined {
  if (!s) return undefined;
  return s.scenario === "ws-1m" ? s.bytesPerSec : s.perSec;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").replace(/\|/g, "\\|").slice(0, 200);
}

/** The markdown report. */
export function renderStreamReport(meta: StreamReportMeta, results: StreamTargetResult[]): string {
  const lines: string[] = [];
  lines.push(`# tapline streaming benchmark — ${meta.date}`, "");
  lines.push(`- Machine: ${meta.machine}`);
  lines.push(`- Versions: ${meta.versions}`);
  lines.push(`- Settings: ${meta.settings}`, "");

  const scenarios: StreamScenarioName[] = ["ws-small", "ws-pipe", "ws-1m", "sse"];
  const present = scenarios.filter((name) => results.some((r) => r.scenarios.some((s) => s.scenario === name)));
  const titles: Record<StreamScenarioName, string> = {
    "ws-small": "WS msg/s",
    "ws-pipe": "WS msg/s pipelined",
    "ws-1m": "WS 1 MiB MiB/s",
    "sse": "SSE events/s",
  };
  lines.push("## Summary", "");
  lines.push(
    `| target | ${
      present.map((n) => `${titles[n]} | × direct`).join(" | ")
    } | CPU µs/msg (WS) | idle RSS | peak RSS | ` +
      "records written / dropped |",
    `|---|${present.map(() => "--:|--:").join("|")}|--:|--:|--:|--:|`,
  );
  for (const r of results) {
    if (r.error && r.scenarios.length === 0) {
      lines.push(`| ${r.target} | failed: ${oneLine(r.error)} |${" |".repeat(present.length * 2 + 3)}`);
      continue;
    }
    const cells = present.map((name) => {
      const s = find(results, r.target, name);
      const base = headlineValue(find(results, "direct", name));
      const v = headlineValue(s);
      const shown = v === undefined ? "—" : name === "ws-1m" ? (v / MiB).toFixed(1) : fmtInt(v);
      return `${shown} | ${fmtRatio(v, base)}`;
    });
    const small = find(results, r.target, "ws-small");
    lines.push(
      `| ${r.target} | ${cells.join(" | ")} | ${fmt1(small?.proxyCpuUsPerMsg)} | ${fmtMiB(r.idleRssBytes)} | ${
        fmtMiB(r.peakRssBytes)
      } | ${r.recordsWritten === undefined ? "—" : `${fmtInt(r.recordsWritten)} / ${fmtInt(r.recordsDropped)}`} |`,
    );
  }
  lines.push("");

  lines.push("## Detail", "");
  lines.push(
    "| target | scenario | rate | × direct | p50 | p99 | proxy CPU µs/msg | proxy CPU % | load core CPU % | errors | " +
      "records / expected | dropped | capture lag | other CPU % |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const r of results) {
    for (const s of r.scenarios) {
      const base = headlineValue(find(results, "direct", s.scenario));
      const captured = s.records === undefined || !s.expectedRecords ? "—" : (s.records / s.expectedRecords).toFixed(3);
      const dropped = s.dropped === undefined
        ? "—"
        : s.dropped === 0
        ? "0"
        : `${fmtInt(s.dropped)} (${Object.entries(s.droppedBy ?? {}).map(([k, v]) => `${k} ${fmtInt(v)}`).join(", ")})`;
      lines.push(
        `| ${r.target} | ${s.label} | ${headline(s)} | ${fmtRatio(headlineValue(s), base)} | ${fmtMs(s.p50us)} | ${
          fmtMs(s.p99us)
        } | ${fmt1(s.proxyCpuUsPerMsg)} | ${fmt1(s.proxyCpuPercent)} | ${
          fmt1(s.loadCpuPercent)
        } | ${s.errors} | ${captured} | ${dropped} | ${
          s.captureLagMs === undefined ? "—" : `${(s.captureLagMs / 1000).toFixed(1)} s`
        } | ${fmt1(s.otherCpuPercent)} |`,
      );
    }
    if (r.error && r.scenarios.length > 0) {
      lines.push(`| ${r.target} | failed: ${oneLine(r.error)} |${" |".repeat(12)}`);
    }
  }
  lines.push("");

  const captured = results.filter((r) => r.recordsByType);
  if (captured.length > 0) {
    lines.push("## Records written (JSONL lines by type, warm-ups and checks included)", "");
    for (const r of captured) {
      const types = Object.entries(r.recordsByType ?? {}).sort(([a], [b]) => a.localeCompare(b));
      lines.push(`- ${r.target}: ${types.map(([t, n]) => `${t} ${fmtInt(n)}`).join(", ") || "none"}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}
