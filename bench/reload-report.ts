/**
 * The reload benchmark's results and their markdown tables: throughput with
 * a plugin set swapped in once a second (B) against the same process with no
 * reloads (A), best round of each, and whether the targets are met.
 */
import type { RuntimeName } from "./plugins-report.ts";
import { fmtInt, fmtMs, oneLine } from "./report.ts";

/** Targets of the reload benchmark. */
export const RELOAD_TARGETS = {
  /** Least B/A throughput: reloading once a second may cost at most 10%. */
  ratio: 0.9,
  /** Most failed requests (wrk socket errors + status ≥ 400) over every round. */
  failed: 0,
} as const;

/** One `PUT /api/plugins` during a B round. */
export interface ReloadCall {
  /** When it was sent, in ms after the round's wrk run started. */
  atMs: number;
  /** HTTP status, 0 when no answer came. */
  status: number;
  /** Until its answer (the new set built and swapped in). */
  ms: number;
  generation?: number;
  error?: string;
}

/** One measured wrk run: A without reloads, B with one reload a second. */
export interface RoundResult {
  kind: "A" | "B";
  /** 1-based, per kind. */
  round: number;
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50us: number;
  p99us: number;
  cpuUsPerReq: number;
  /** wrk's socket errors (connect, read, write, timeout) and responses with a status ≥ 400. */
  socketErrors: number;
  statusErrors: number;
  reloads: ReloadCall[];
  /** JSONL records whose request started inside the run. */
  records?: number;
  /** Distinct `plugin_generation` values in those records. */
  generations?: number[];
  /** tapline_capture_dropped_total over the run. */
  dropped?: number;
  /** tapline_plugin_generations_live once capture drained after the run (1: every replaced set was freed). */
  liveSets?: number;
  /** VmRSS of tapline's process tree after the run. */
  rssBytes?: number;
  otherCpuPercent: number;
}

export interface ReloadRuntimeResult {
  runtime: RuntimeName;
  rounds: RoundResult[];
  /** tapline's `stopped` line: records written / dropped over the process life. */
  recordsWritten?: number;
  recordsDropped?: number;
  error?: string;
}

export interface ReloadReportMeta {
  date: string;
  machine: string;
  versions: string;
  settings: string;
}

/** The round of `kind` with the most req/s ("best of N": these machines are noisy). */
export function best(r: ReloadRuntimeResult, kind: "A" | "B"): RoundResult | undefined {
  return r.rounds.filter((x) => x.kind === kind).sort((a, b) => b.reqPerSec - a.reqPerSec)[0];
}

/** Failed requests over every round, A and B. */
export function failedRequests(r: ReloadRuntimeResult): number {
  return r.rounds.reduce((n, x) => n + x.socketErrors + x.statusErrors, 0);
}

/** "15 × 200" or "14 × 200, 1 × 500": the statuses of every reload of the runtime. */
function statuses(calls: ReloadCall[]): string {
  const by = new Map<number, number>();
  for (const c of calls) by.set(c.status, (by.get(c.status) ?? 0) + 1);
  if (by.size === 0) return "none";
  return [...by].sort(([a], [b]) => a - b).map(([s, n]) => `${n} × ${s === 0 ? "no answer" : s}`).join(", ");
}

/** Median and max of the reloads' answer times. */
function putTimes(calls: ReloadCall[]): string {
  if (calls.length === 0) return "—";
  const ms = calls.map((c) => c.ms).sort((a, b) => a - b);
  return `${ms[Math.floor((ms.length - 1) / 2)]!.toFixed(0)} / ${ms[ms.length - 1]!.toFixed(0)} ms`;
}

function ok(pass: boolean | undefined): string {
  return pass === undefined ? "—" : pass ? "met" : "missed";
}

/** The ratio B/A of the best rounds, undefined when either is missing. */
export function ratio(r: ReloadRuntimeResult): number | undefined {
  const a = best(r, "A");
  const b = best(r, "B");
  return a && b && a.reqPerSec > 0 ? b.reqPerSec / a.reqPerSec : undefined;
}

/** The markdown report: the targets per runtime, then every round. */
export function renderReloadReport(meta: ReloadReportMeta, results: ReloadRuntimeResult[]): string {
  const lines: string[] = [];
  lines.push(`# tapline plugin reload benchmark — ${meta.date}`, "");
  lines.push(`- Machine: ${meta.machine}`);
  lines.push(`- Versions: ${meta.versions}`);
  lines.push(`- Settings: ${meta.settings}`, "");

  lines.push("## Targets", "");
  lines.push(
    `| runtime | A: no reloads req/s | B: reload every 1 s req/s | B / A | ≥ ${RELOAD_TARGETS.ratio}× | A p50 / p99 | B p50 / p99 | proxy CPU µs/req A / B | failed requests | = 0 | reloads | PUT time p50 / max | B records / req |`,
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|",
  );
  for (const r of results) {
    if (r.error && r.rounds.length === 0) {
      lines.push(`| ${r.runtime} | failed: ${oneLine(r.error)} |||||||||||||`);
      continue;
    }
    const a = best(r, "A");
    const b = best(r, "B");
    const q = ratio(r);
    const failed = failedRequests(r);
    const calls = r.rounds.flatMap((x) => x.reloads);
    const bRounds = r.rounds.filter((x) => x.kind === "B" && x.records !== undefined);
    const bRecords = bRounds.reduce((n, x) => n + (x.records ?? 0), 0);
    const bRequests = bRounds.reduce((n, x) => n + x.requests, 0);
    lines.push(
      `| ${r.runtime} | ${fmtInt(a?.reqPerSec)} | ${fmtInt(b?.reqPerSec)} | ${
        q === undefined ? "—" : `${q.toFixed(2)}×`
      } | ${ok(q === undefined ? undefined : q >= RELOAD_TARGETS.ratio)} | ${fmtMs(a?.p50us)} / ${fmtMs(a?.p99us)} | ${
        fmtMs(b?.p50us)
      } / ${fmtMs(b?.p99us)} | ${a?.cpuUsPerReq.toFixed(1) ?? "—"} / ${b?.cpuUsPerReq.toFixed(1) ?? "—"} | ${
        fmtInt(failed)
      } | ${ok(failed <= RELOAD_TARGETS.failed)} | ${calls.length}: ${statuses(calls)} | ${putTimes(calls)} | ${
        bRequests > 0 ? (bRecords / bRequests).toFixed(3) : "—"
      } |`,
    );
  }
  lines.push("");

  lines.push("## Every round", "");
  lines.push(
    "| runtime | round | req/s | p50 | p99 | proxy CPU µs/req | socket errors | status ≥ 400 | reloads | PUT time p50 / max | generations in records | records / req | dropped | live sets after | RSS after | other CPU % |",
    "|---|---|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const r of results) {
    for (const x of r.rounds) {
      const gens = x.generations ?? [];
      lines.push(
        `| ${r.runtime} | ${x.kind}${x.round} | ${fmtInt(x.reqPerSec)} | ${fmtMs(x.p50us)} | ${fmtMs(x.p99us)} | ${
          x.cpuUsPerReq.toFixed(1)
        } | ${fmtInt(x.socketErrors)} | ${fmtInt(x.statusErrors)} | ${
          x.kind === "A" ? "—" : `${x.reloads.length}: ${statuses(x.reloads)}`
        } | ${putTimes(x.reloads)} | ${
          gens.length === 0 ? "—" : `${gens.length} (${gens[0]}–${gens[gens.length - 1]})`
        } | ${x.records === undefined ? "—" : (x.records / Math.max(1, x.requests)).toFixed(3)} | ${
          fmtInt(x.dropped)
        } | ${x.liveSets ?? "—"} | ${
          x.rssBytes === undefined ? "—" : `${(x.rssBytes / 1024 / 1024).toFixed(1)} MiB`
        } | ${x.otherCpuPercent.toFixed(1)} |`,
      );
    }
    if (r.error && r.rounds.length > 0) lines.push(`| ${r.runtime} | failed: ${oneLine(r.error)} |||||||||||||||`);
  }
  lines.push("");
  const written = results.filter((r) => r.recordsWritten !== undefined).map((r) =>
    `${r.runtime} ${fmtInt(r.recordsWritten)} / ${fmtInt(r.recordsDropped)}`
  );
  if (written.length > 0) {
    lines.push(
      `Records written / dropped over each process life (warm-up and checks included): ${written.join("; ")}.`,
    );
    lines.push("");
  }
  return lines.join("\n");
}
