/**
 * Which runtimes the conformance suite runs tapline under, and how to start
 * tapline on each. CI runs all three; `TAPLINE_RUNTIMES=node,bun` narrows the
 * set for local iteration. An unknown name is an error, never a silent skip.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ALL_RUNTIMES = ["node", "deno", "bun"] as const;
export type Runtime = (typeof ALL_RUNTIMES)[number];

/** Repository root: the nearest ancestor holding tapline's package.json. */
export const repoRoot: string = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      const name = (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name;
      if (name === "tapline") return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`Cannot find tapline's package.json above ${start}`);
    dir = parent;
  }
}

/**
 * Parse a runtime list such as `node,bun`. Throws on an empty list or an
 * unknown name so that a typo never silently skips a runtime.
 */
export function parseRuntimes(text: string | undefined): Runtime[] {
  if (text === undefined || text.trim() === "") return [...ALL_RUNTIMES];
  const names = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (names.length === 0) throw new Error(`TAPLINE_RUNTIMES="${text}" names no runtime`);
  const out: Runtime[] = [];
  for (const name of names) {
    if (!(ALL_RUNTIMES as readonly string[]).includes(name)) {
      throw new Error(`Unknown runtime "${name}" in TAPLINE_RUNTIMES: expected one of ${ALL_RUNTIMES.join(", ")}`);
    }
    if (!out.includes(name as Runtime)) out.push(name as Runtime);
  }
  return out;
}

/** The runtimes selected for this run (all three unless TAPLINE_RUNTIMES narrows them). */
export const runtimes: Runtime[] = parseRuntimes(process.env["TAPLINE_RUNTIMES"]);

/** The executable and leading arguments that start tapline under `runtime`. */
export function taplineCommand(runtime: Runtime): { command: string; args: string[] } {
  switch (runtime) {
    case "node":
      return { command: process.execPath, args: [resolve(repoRoot, "bin/tapline.js")] };
    case "deno":
      return {
        command: resolve(repoRoot, "node_modules/.bin/deno"),
        args: ["run", "-A", resolve(repoRoot, "src/cli/main.ts")],
      };
    case "bun":
      return { command: resolve(repoRoot, "node_modules/.bin/bun"), args: [resolve(repoRoot, "src/cli/main.ts")] };
  }
}
