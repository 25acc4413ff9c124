/**
 * The plugin benchmark's results and their markdown tables: what the
 * plugins cost per request against the same runtime without plugins, and
 * whether the issue's targets are met.
 */
import { fmtInt, fmtMs, oneLine } from "./report.ts";

export const RUNTIME_NAMES = ["node", "deno", "bun"] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export const PLUGIN_SCENARIO_NAMES = ["none", "noop", "bundled", "redaction"] as const;
export type PluginScenarioName = (typeof PLUGIN_SCENARIO_NAMES)[number];

/** Targets from the plugin-cost issue (issue 5's were a 20 µs no-op and the same 0.7× bundled). */
export const TARGETS = {
  /** Most a no-op `onRequest` may cost per request, in µs. */
  noopUs: 8,
  /** Least throughput the three bundled plugins keep, as a share of no plugins. */
  bundledRatio: 0.7,
  /** Least throughput redaction alone keeps, as a share of no plugins. */
  redactionRatio: 0.85,
  /** Most redaction may spend in its sandbox per record, in µs. */
  redactionUs: 20,
} as const;

/** One plugin instance's counters over a measured run (admin metrics, after − before). */
export interface PluginCounters {
  calls: number;
  seconds: number;
  errors: number;
  timeouts: number;
  oom: number;
  recordsDropped: number;
}

/** One scenario on one runtime: its own tapline process, measured at c32 and then at c1. */
export interface PluginScenarioResult {
  scenario: PluginScenarioName;
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50us: number;
  p99us: number;
  /** Latency with one connection (wrk -c1 after the loaded run), its req/s and tapline's CPU meanwhile. */
  c1ReqPerSec?: number;
  c1CpuPercent?: number;
  c1p50us?: number;
  c1p99us?: number;
  cpuUsPerReq?: number;
  cpuPercent?: number;
  errors: number;
  otherCpuPercent: number;
  /** JSONL records whose request started inside the loaded run. */
  records?: number;
  /** How long after wrk stopped the JSONL kept growing. */
  captureLagMs?: number;
  /** tapline_capture_dropped_total over the loaded run, by reason. */
  dropped?: number;
  droppedBy?: Record<string, number>;
  /** Per plugin instance id. */
  plugins?: Record<string, PluginCounters>;
  /** tapline's `stopped` line: records written / dropped over the process life. */
  recordsWritten?: number;
  recordsDropped?: number;
  error?: string;
}

export interface PluginRuntimeResult {
  runtime: RuntimeName;
  scenarios: PluginScenarioResult[];
}

export interface PluginReportMeta {
  date: string;
  machine: string;
  versions: string;
  settings: string;
}

/** Scenario descriptions, for the report. */
export const SCENARIO_LABELS: Record<PluginScenarioName, string> = {
  none: "no plugins",
  noop: "no-op onRequest",
  bundled: "path-filter + text-replace + redaction",
  redaction: "redaction only (onCapture)",
};

function fmtUs(us: number | undefined, signed = false): string {
  if (us === undefined || !Number.isFinite(us)) return "—";
  const sign = signed && us >= 0 ? "+" : "";
  return Math.abs(us) >= 1000 ? `${sign}${(us / 1000).toFixed(2)} ms` : `${sign}${us.toFixed(1)} µs`;
}

function ok(pass: boolean | undefined): string {
  return pass === undefined ? "—" : pass ? "met" : "missed";
}

/** Per-request cost of a scenario over `none`, from throughput: 1/rps − 1/rps_none, in µs. */
export function costUs(
  s: PluginScenarioResult | undefined,
  none: PluginScenarioResult | undefined,
): number | undefined {
  if (!s || !none || s.error || none.error || !s.reqPerSec || !none.reqPerSec) return undefined;
  return (1 / s.reqPerSec - 1 / none.reqPerSec) * 1e6;
}

function find(r: PluginRuntimeResult, name: PluginScenarioName): PluginScenarioResult | undefined {
  const s = r.scenarios.find((x) => x.scenario === name);
  return s?.error ? undefined : s;
}

function delta(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a - b;
}

/** In-sandbox µs per request, summed over the scenario's plugins. */
function sandboxUs(s: PluginScenarioResult): number | undefined {
  if (!s.plugins || Object.keys(s.plugins).length === 0) return undefined;
  const seconds = Object.values(s.plugins).reduce((a, p) => a + p.seconds, 0);
  return (seconds * 1e6) / Math.max(1, s.requests);
}

function droppedText(s: PluginScenarioResult): string {
  if (s.dropped === undefined) return "—";
  const byPlugins = Object.values(s.plugins ?? {}).reduce((a, p) => a + p.recordsDropped, 0);
  const reasons = Object.entries(s.droppedBy ?? {}).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${fmtInt(n)}`);
  return `${fmtInt(s.dropped)}${reasons.length > 0 ? ` (${reasons.join(", ")})` : ""} / ${fmtInt(byPlugins)}`;
}

function pluginFailures(s: PluginScenarioResult): number {
  return Object.values(s.plugins ?? {}).reduce((a, p) => a + p.errors + p.timeouts + p.oom, 0);
}

/** The markdown report: targets per runtime, then every scenario. */
export function renderPluginReport(meta: PluginReportMeta, results: PluginRuntimeResult[]): string {
  const lines: string[] = [];
  lines.push(`# tapline plugin benchmark — ${meta.date}`, "");
  lines.push(`- Machine: ${meta.machine}`);
  lines.push(`- Versions: ${meta.versions}`);
  lines.push(`- Settings: ${meta.settings}`, "");

  lines.push("## Targets", "");
  lines.push(
    `| runtime | no-op onRequest cost (1/rps − 1/rps none) | CPU µs/req Δ (no-op) | ≤ ${TARGETS.noopUs} µs | bundled × none | ≥ ${TARGETS.bundledRatio}× | redaction × none | ≥ ${TARGETS.redactionRatio}× | redaction in sandbox per record | ≤ ${TARGETS.redactionUs} µs | redaction p50 Δ at c32 | redaction p50 Δ at c1 | bundled records / req |`,
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const r of results) {
    const none = find(r, "none");
    const noop = find(r, "noop");
    const bundled = find(r, "bundled");
    const redaction = find(r, "redaction");
    const noopCost = costUs(noop, none);
    const ratio = bundled && none ? bundled.reqPerSec / none.reqPerSec : undefined;
    const redactionRatio = redaction && none ? redaction.reqPerSec / none.reqPerSec : undefined;
    const perRecord = redaction ? sandboxUs(redaction) : undefined;
    lines.push(
      `| ${r.runtime} | ${fmtUs(noopCost)} | ${fmtUs(delta(noop?.cpuUsPerReq, none?.cpuUsPerReq), true)} | ${
        ok(noopCost === undefined ? undefined : noopCost <= TARGETS.noopUs)
      } | ${ratio === undefined ? "—" : `${ratio.toFixed(2)}×`} | ${
        ok(ratio === undefined ? undefined : ratio >= TARGETS.bundledRatio)
      } | ${redactionRatio === undefined ? "—" : `${redactionRatio.toFixed(2)}×`} | ${
        ok(redactionRatio === undefined ? undefined : redactionRatio >= TARGETS.redactionRatio)
      } | ${fmtUs(perRecord)} | ${ok(perRecord === undefined ? undefined : perRecord <= TARGETS.redactionUs)} | ${
        fmtUs(delta(redaction?.p50us, none?.p50us), true)
      } | ${fmtUs(delta(redaction?.c1p50us, none?.c1p50us), true)} | ${
        bundled?.records === undefined ? "—" : (bundled.records / Math.max(1, bundled.requests)).toFixed(3)
      } |`,
    );
  }
  lines.push("");

  lines.push("## Every scenario", "");
  lines.push(
    "| runtime | scenario | req/s | × none | p50 | p99 | req/s at c1 | proxy CPU % at c1 | p50 at c1 | p99 at c1 | proxy CPU µs/req | cost vs none (1/rps) | in sandbox µs/req | records / req | capture lag | dropped: capture (reasons) / by plugins | plugin failures | errors | other CPU % |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const r of results) {
    const none = find(r, "none");
    for (const s of r.scenarios) {
      if (s.error) {
        lines.push(`| ${r.runtime} | ${SCENARIO_LABELS[s.scenario]} | failed: ${oneLine(s.error)} |||||||||||||||||`);
        continue;
      }
      lines.push(
        `| ${r.runtime} | ${SCENARIO_LABELS[s.scenario]} | ${fmtInt(s.reqPerSec)} | ${
          none ? (s.reqPerSec / none.reqPerSec).toFixed(2) : "—"
        } | ${fmtMs(s.p50us)} | ${fmtMs(s.p99us)} | ${fmtInt(s.c1ReqPerSec)} | ${
          s.c1CpuPercent === undefined ? "—" : s.c1CpuPercent.toFixed(0)
        } | ${fmtMs(s.c1p50us)} | ${fmtMs(s.c1p99us)} | ${
          s.cpuUsPerReq === undefined ? "—" : s.cpuUsPerReq.toFixed(1)
        } | ${s.scenario === "none" ? "—" : fmtUs(costUs(s, none), true)} | ${sandboxUs(s)?.toFixed(1) ?? "—"} | ${
          s.records === undefined ? "—" : (s.records / Math.max(1, s.requests)).toFixed(3)
        } | ${s.captureLagMs === undefined ? "—" : `${(s.captureLagMs / 1000).toFixed(1)} s`} | ${droppedText(s)} | ${
          s.plugins ? fmtInt(pluginFailures(s)) : "—"
        } | ${s.errors} | ${s.otherCpuPercent.toFixed(1)} |`,
      );
    }
  }
  lines.push("");
  const written = results.flatMap((r) =>
    r.scenarios.filter((s) => s.recordsWritten !== undefined).map((s) =>
      `${r.runtime}/${s.scenario} ${fmtInt(s.recordsWritten)} / ${fmtInt(s.recordsDropped)}`
    )
  );
  if (written.length > 0) {
    lines.push(
      `Records written / dropped over each process life (warm-up and checks included): ${written.join("; ")}.`,
    );
    lines.push("");
  }
  return lines.join("\n");
}
