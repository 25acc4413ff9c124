/**
 * Which targets the conformance suite runs tapline under, and how to start
 * tapline on each: node, deno and bun from source, and `binary`, the single
 * executable `npm run build:binary` makes with `bun build --compile`. CI runs
 * all four; `TAPLINE_RUNTIMES=node,bun` narrows the set for local iteration.
 * An unknown name is an error, never a silent skip.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ALL_RUNTIMES = ["node", "deno", "bun", "binary"] as const;
export type Runtime = (typeof ALL_RUNTIMES)[number];

/**
 * The JavaScript engine behind a target: the single binary is Bun inside, so
 * it shares Bun's documented limitations (README "Runtime differences").
 */
export function engineOf(runtime: Runtime): "node" | "deno" | "bun" {
  return runtime === "binary" ? "bun" : runtime;
}

/**
 * Conformance tests that cannot run against the single binary, and why. This
 * is the only place such an exclusion lives; a test file asks with
 * {@link runtimesFor} and never filters on "binary" by itself.
 */
export const NOT_FOR_BINARY = {
  "s3-upload-child":
    "runs a test-only script that imports tapline's S3 modules directly, and a binary exposes no modules; archive.test.ts and archive-layout.test.ts cover S3 uploads through the binary's CLI",
} as const;

/** The selected targets minus the binary when `test` is listed in {@link NOT_FOR_BINARY}. */
export function runtimesFor(test: keyof typeof NOT_FOR_BINARY): Runtime[] {
  return runtimes.filter((runtime) => runtime !== "binary" || !(test in NOT_FOR_BINARY));
}

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

/** The targets selected for this run (all four unless TAPLINE_RUNTIMES narrows them). */
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
    case "binary":
      return { command: singleBinary(), args: [] };
  }
}

/** Where `npm run build:binary` writes the binary (TAPLINE_BINARY overrides it to test another build). */
export const binaryPath: string = process.env["TAPLINE_BINARY"] ??
  resolve(repoRoot, "dist", "bin", `tapline-${process.platform}-${process.arch}`);

let binaryChecked = false;

/**
 * The single binary, rebuilt first when it is missing or older than any
 * source it embeds, so a test never runs yesterday's build. The build script
 * renames the finished file into place, so a concurrent test file never
 * starts a half-written binary.
 */
export function singleBinary(): string {
  if (binaryChecked || process.env["TAPLINE_BINARY"] !== undefined) return binaryPath;
  const built = existsSync(binaryPath) ? statSync(binaryPath).mtimeMs : 0;
  if (built < newestSource()) {
    execFileSync(process.execPath, [join(repoRoot, "scripts", "build-binary.js"), "--out", binaryPath], {
      cwd: repoRoot,
      stdio: ["ignore", "ignore", "inherit"],
    });
  }
  binaryChecked = true;
  return binaryPath;
}

/** Newest modification time among the files a binary embeds. */
function newestSource(): number {
  let newest = statSync(join(repoRoot, "package-lock.json")).mtimeMs;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of ["src", "plugins", "schemas"]) walk(join(repoRoot, dir));
  return newest;
}
