#!/usr/bin/env node
/**
 * Builds a single executable with `bun build --compile` (bun is a
 * devDependency): everything tapline needs travels inside it (bundled
 * plugins, sql.js WASM, the QuickJS module, the viewer). Prints its path and
 * size.
 *
 * Usage: node scripts/build-binary.js [--out FILE]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const at = args.indexOf("--out");
const out = at >= 0 && args[at + 1] ? args[at + 1] : join(ROOT, "dist", "bin", `tapline-${process.platform}-${process.arch}`);
mkdirSync(dirname(out), { recursive: true });
const bun = join(ROOT, "node_modules", ".bin", process.platform === "win32" ? "bun.exe" : "bun");
// Built beside the target and renamed into place: whoever runs the old binary
// meanwhile (a test, a service) never sees a half-written file.
const partial = `${out}.${process.pid}.partial`;
try {
  execFileSync(bun, ["build", "--compile", "src/cli/main.ts", "--outfile", partial], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  renameSync(partial, out);
} finally {
  rmSync(partial, { force: true });
}
console.log(`Built ${relative(process.cwd(), out) || out} (${(statSync(out).size / 1024 / 1024).toFixed(1)} MB)`);
