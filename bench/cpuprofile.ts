/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time by
 * function and by area (tapline source, undici, node internals, GC, idle).
 *
 * Usage: node dist/bench/cpuprofile.js FILE.cpuprofile [--top 25]
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time in microseconds per key. */
export type SelfTimes = Map<string, number>;

/** Where a frame's code lives, for the per-area summary. */
export function areaOf(frame: CallFrame): string {
  const { functionName: name, url } = frame;
  if (name === "(idle)") return "idle";
  if (name === "(garbage collector)") return "GC";
  if (name === "(program)") return "native (program)";
  if (name === "(root)") return "root";
  if (url.includes("/node_modules/undici/")) return "undici";
  if (url.includes("/node_modules/")) return "other npm packages";
  if (url.includes("/dist/src/") || url.includes("/src/")) {
    const m = /\/src\/([^/]+)\//.exec(url);
    return `tapline src/${m?.[1] ?? "?"}`;
  }
  if (url.startsWith("node:")) return "node internals (JS)";
  if (url === "") return "native / builtins";
  return "other";
}

function shortUrl(url: string): string {
  const i = url.indexOf("/node_modules/");
  if (i >= 0) return url.slice(i + "/node_modules/".length);
  const j = url.lastIndexOf("/src/");
  if (j >= 0) return url.slice(j + 1);
  return url;
}

/** Aggregate self time by function (`name url:line`) and by area. */
export function summarise(profile: CpuProfile): { byFunction: SelfTimes; byArea: SelfTimes; total: number } {
  const nodes = new Map<number, ProfileNode>();
  for (const n of profile.nodes) nodes.set(n.id, n);
  const byFunction: SelfTimes = new Map();
  const byArea: SelfTimes = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = nodes.get(id);
    if (!node || dt <= 0) return;
    const f = node.callFrame;
    const key = `${f.functionName || "(anonymous)"} ${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ""}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + dt);
    const area = areaOf(f);
    byArea.set(area, (byArea.get(area) ?? 0) + dt);
    total += dt;
  });
  return { byFunction, byArea, total };
}

/** A markdown rendering of the top `top` functions and all areas. */
export function renderSummary(s: ReturnType<typeof summarise>, top: number): string {
  const busy = s.total - (s.byArea.get("idle") ?? 0);
  const pct = (us: number, of: number) => ((us / Math.max(1, of)) * 100).toFixed(1);
  const sorted = (m: SelfTimes) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  const lines = [
    `Sampled ${(s.total / 1e6).toFixed(2)} s, busy (not idle) ${(busy / 1e6).toFixed(2)} s.`,
    "",
    "| area | self ms | % of busy |",
    "|---|--:|--:|",
  ];
  for (const [area, us] of sorted(s.byArea)) {
    if (area === "idle") continue;
    lines.push(`| ${area} | ${(us / 1000).toFixed(0)} | ${pct(us, busy)} |`);
  }
  lines.push("", "| function | self ms | % of busy |", "|---|--:|--:|");
  for (const [fn, us] of sorted(s.byFunction).filter(([k]) => !k.startsWith("(idle)")).slice(0, top)) {
    lines.push(`| \`${fn.replace(/\|/g, "\\|")}\` | ${(us / 1000).toFixed(0)} | ${pct(us, busy)} |`);
  }
  return lines.join("\n") + "\n";
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write("Usage: node dist/bench/cpuprofile.js FILE.cpuprofile [--top 25]\n");
    process.exit(64);
  }
  const topAt = process.argv.indexOf("--top");
  const top = topAt > 0 ? Number(process.argv[topAt + 1]) : 25;
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  process.stdout.write(renderSummary(summarise(profile), top));
}
