/**
 * Where the benchmark runs: the repository root, the tools it needs, the
 * versions it reports, its scratch directory and list options. Shared by the
 * HTTP and plugin benchmarks.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { onCleanup } from "./procs.ts";

/** Repository root, whether this runs from bench/ (Deno, Bun) or dist/bench/ (Node). */
export function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.endsWith(join("dist", "bench")) ? resolve(here, "../..") : resolve(here, "..");
}

/** First line of a command's output, or "?" when it is missing. */
export function toolVersion(cmd: string, args: string[]): string {
  try {
    // nginx -v prints to stderr; wrk -v exits 1 after printing its version.
    const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n")[0]?.trim() || "?";
  } catch {
    return "?";
  }
}

/** "node vX, deno X, bun X, nginx/X, wrk X" for a report's header. */
export function benchVersions(root: string): string {
  return [
    `node ${process.version}`,
    `deno ${toolVersion(join(root, "node_modules/.bin/deno"), ["--version"]).replace(/^deno /, "")}`,
    `bun ${toolVersion(join(root, "node_modules/.bin/bun"), ["--version"])}`,
    toolVersion("nginx", ["-v"]).replace(/^nginx version: /, ""),
    toolVersion("wrk", ["-v"]).replace(/ \[.*$/, ""),
  ].join(", ");
}

/** Throw unless wrk, nginx and taskset are on PATH. */
export function requireTools(): void {
  for (const tool of ["wrk", "nginx", "taskset"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      throw new Error(`Missing ${tool} on PATH: run bench/setup.sh first`);
    }
  }
}

/**
 * A fresh scratch directory under $TMPDIR named `prefix*`, readable by
 * nginx's unprivileged workers, removed when the harness exits unless `keep`.
 */
export function scratchDir(prefix: string, keep: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // nginx workers run as an unprivileged user when started as root; they must read the static files.
  chmodSync(dir, 0o755);
  if (!keep) onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The comma-separated `text` of option `--<what>s` as a list of `allowed` names; throws on others. */
export function listOption<T extends string>(text: string, allowed: readonly T[], what: string): T[] {
  return text.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
    if (!(allowed as readonly string[]).includes(s)) {
      throw new Error(`Unknown ${what} "${s}" in --${what}s: expected some of ${allowed.join(", ")}`);
    }
    return s as T;
  });
}

/**
 * `parseArgs` specs of the options every wrk-driven benchmark takes: the
 * load (duration, warm-up, connections), pinning, port, report and scratch
 * directory, with the defaults that differ passed in.
 */
export function loadOptionSpecs(defaults: { port: string; out: string; quietWait: string }) {
  return {
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "32" },
    "proxy-core": { type: "string", default: "1" },
    "load-core": { type: "string", default: "0" },
    port: { type: "string", default: defaults.port },
    out: { type: "string", default: defaults.out },
    keep: { type: "boolean", default: false },
    "quiet-wait": { type: "string", default: defaults.quietWait },
  } as const;
}

/** A numeric option's value. @throws naming the option when it is not a number of at least `min`. */
export function numberOption(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) throw new Error(`Invalid --${name} "${text}": expected a number ≥ ${min}`);
  return n;
}

/** The values `loadOptionSpecs` declares, as parseArgs returns them. */
export interface LoadOptionValues {
  duration: string;
  warmup: string;
  connections: string;
  "proxy-core": string;
  "load-core": string;
  port: string;
  out: string;
  keep: boolean;
  "quiet-wait": string;
}

/** The options every load benchmark shares, checked. */
export interface LoadOptions {
  duration: number;
  warmup: number;
  connections: number;
  proxyCore: string | undefined;
  loadCore: string | undefined;
  port: number;
  quietWait: number;
  out: string;
  keep: boolean;
}

/** The options `loadOptionSpecs` declares, checked; `minDuration` in seconds. */
export function loadOptions(values: LoadOptionValues, minDuration = 1): LoadOptions {
  return {
    duration: numberOption("duration", values.duration, minDuration),
    warmup: numberOption("warmup", values.warmup, 0),
    connections: numberOption("connections", values.connections, 1),
    ...pinnedCores(values["proxy-core"], values["load-core"]),
    port: numberOption("port", values.port, 1),
    quietWait: numberOption("quiet-wait", values["quiet-wait"], 0),
    out: resolve(values.out),
    keep: values.keep,
  };
}

/** taskset CPU lists for the proxy and the load; both undefined (unpinned) on a machine with one CPU. */
export function pinnedCores(proxyCore: string, loadCore: string): {
  proxyCore: string | undefined;
  loadCore: string | undefined;
} {
  if (cpus().length >= 2) return { proxyCore, loadCore };
  process.stderr.write("Fewer than 2 CPUs: running everything unpinned\n");
  return { proxyCore: undefined, loadCore: undefined };
}

/** The date and machine lines of a report's header. */
export function reportStamp(): { date: string; machine: string } {
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Linux ${release()}`,
  };
}

/** Write the markdown report to `out` and `data` as JSON next to it (`.md` → `.json`), and print the report. */
export function writeReport(out: string, md: string, data: unknown): void {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, md);
  writeFileSync(out.replace(/\.md$/, "") + ".json", JSON.stringify(data, null, 2) + "\n");
  process.stdout.write(md);
}
