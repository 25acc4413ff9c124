/**
 * Turns measurements into the markdown report (summary + detail tables).
 */
import type { TargetName } from "./targets.ts";

export const SCENARIO_NAMES = ["get1k", "post1k", "get1m", "lat1"] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** Human labels for scenario ids. */
export const SCENARIO_LABELS: Record<ScenarioName, string> = {
  get1k: "1 KiB GET, c32",
  post1k: "1 KiB POST, c32",
  get1m: "1 MiB GET, c32",
  lat1: "1 KiB GET, c1 (unloaded)",
};

/** One measured wrk run against one target. */
export interface ScenarioResult {
  scenario: ScenarioName;
  connections: number;
  requests: number;
  seconds: number;
  reqPerSec: number;
  /** Response bytes per second as wrk counts them (headers + body). */
  bytesPerSec: number;
  p50us: number;
  p99us: number;
  errors: number;
  /** CPU (user + system) of the proxy process tree per request; undefined for direct. */
  cpuUsPerReq?: number;
  /** Proxy CPU use over the run in percent of one core. */
  cpuPercent?: number;
  /** JSONL records of requests that started during the measured run, and the bytes written. */
  records?: number;
  jsonlBytes?: number;
  /** How long after the run the JSONL files kept growing (writer backlog). */
  captureLagMs?: number;
  /** CPU used on the machine by anything but the proxy, upstream, wrk and harness (noise). */
  otherCpuPercent?: number;
}

/** Everything measured for one target. */
export interface TargetResult {
  target: TargetName;
  error?: string;
  idleRssBytes?: number;
  peakRssBytes?: number;
  /** tapline's totals over its whole life (warm-ups included), from its "stopped" log line. */
  recordsWritten?: number;
  recordsDropped?: number;
  scenarios: ScenarioResult[];
}

/** Run metadata printed above the tables. */
export interface ReportMeta {
  date: string;
  machine: string;
  versions: string;
  settings: string;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

function find(results: TargetResult[], target: TargetName, s: ScenarioName): ScenarioResult | undefined {
  return results.find((r) => r.target === target)?.scenarios.find((x) => x.scenario === s);
}

/** A whole number with thousands separators, "—" when absent. */
export function fmtInt(n: number | undefined): string {
  return n === undefined ? "—" : Math.round(n).toLocaleString("en-US");
}

function fmtRatio(n: number | undefined, base: number | undefined): string {
  return n === undefined || !base ? "—" : (n / base).toFixed(2);
}

/** Microseconds as "1.234 ms", "—" when absent. */
export function fmtMs(us: number | undefined): string {
  return us === undefined ? "—" : `${(us / 1000).toFixed(3)} ms`;
}

function fmtMiB(b: number | undefined): string {
  return b === undefined ? "—" : `${(b / MiB).toFixed(1)} MiB`;
}

function fmtGiBps(b: number | undefined): string {
  return b === undefined ? "—" : (b / GiB).toFixed(2);
}

function fmtCpu(n: number | undefined): string {
  return n === undefined ? "—" : n.toFixed(1);
}

/** The markdown report: summary per target, then one row per target and scenario. */
export function renderReport(meta: ReportMeta, results: TargetResult[]): string {
  const lines: string[] = [];
  lines.push(`# tapline benchmark — ${meta.date}`, "");
  lines.push(`- Machine: ${meta.machine}`);
  lines.push(`- Versions: ${meta.versions}`);
  lines.push(`- Settings: ${meta.settings}`, "");

  lines.push("## Summary", "");
  lines.push(
    "| target | 1 KiB GET req/s | × nginx | 1 KiB POST req/s | × nginx | 1 MiB GET GiB/s | × nginx | p50 at c1 | CPU µs/req (1 KiB GET) | idle RSS | peak RSS | records written / dropped |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const r of results) {
    if (r.error && r.scenarios.length === 0) {
      lines.push(`| ${r.target} | failed: ${oneLine(r.error)} | | | | | | | | | | |`);
      continue;
    }
    const g = find(results, r.target, "get1k");
    const p = find(results, r.target, "post1k");
    const m = find(results, r.target, "get1m");
    const l = find(results, r.target, "lat1");
    const ng = find(results, "nginx", "get1k");
    const np = find(results, "nginx", "post1k");
    const nm = find(results, "nginx", "get1m");
    lines.push(
      `| ${r.target} | ${fmtInt(g?.reqPerSec)} | ${fmtRatio(g?.reqPerSec, ng?.reqPerSec)} | ${fmtInt(p?.reqPerSec)} | ${
        fmtRatio(p?.reqPerSec, np?.reqPerSec)
      } | ${fmtGiBps(m?.bytesPerSec)} | ${fmtRatio(m?.bytesPerSec, nm?.bytesPerSec)} | ${fmtMs(l?.p50us)} | ${
        fmtCpu(g?.cpuUsPerReq)
      } | ${fmtMiB(r.idleRssBytes)} | ${fmtMiB(r.peakRssBytes)} | ${
        r.recordsWritten === undefined ? "—" : `${fmtInt(r.recordsWritten)} / ${fmtInt(r.recordsDropped)}`
      } |`,
    );
  }
  lines.push("");

  lines.push("## Detail", "");
  lines.push(
    "| target | scenario | req/s | × nginx | MiB/s | p50 | p99 | proxy CPU µs/req | proxy CPU % | errors | JSONL records / req | capture lag | other CPU % |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const r of results) {
    for (const s of r.scenarios) {
      const base = find(results, "nginx", s.scenario);
      const captured = s.records === undefined ? "—" : (s.records / Math.max(1, s.requests)).toFixed(3);
      lines.push(
        `| ${r.target} | ${SCENARIO_LABELS[s.scenario]} | ${fmtInt(s.reqPerSec)} | ${
          fmtRatio(s.reqPerSec, base?.reqPerSec)
        } | ${(s.bytesPerSec / MiB).toFixed(1)} | ${fmtMs(s.p50us)} | ${fmtMs(s.p99us)} | ${fmtCpu(s.cpuUsPerReq)} | ${
          fmtCpu(s.cpuPercent)
        } | ${s.errors} | ${captured} | ${
          s.captureLagMs === undefined ? "—" : `${(s.captureLagMs / 1000).toFixed(1)} s`
        } | ${fmtCpu(s.otherCpuPercent)} |`,
      );
    }
    if (r.error && r.scenarios.length > 0) {
      lines.push(`| ${r.target} | failed: ${oneLine(r.error)} | | | | | | | | | | | |`);
    }
  }
  lines.push("");
  return lines.join("\n");
}

/** `text` on one line, safe inside a markdown table cell. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").replace(/\|/g, "\\|").slice(0, 200);
}
