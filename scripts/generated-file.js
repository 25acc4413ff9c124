/**
 * Writes a generated source file only when its text changed, or (check mode)
 * writes nothing and fails when the committed file differs from what the
 * generator makes now. Shared by embed-plugins.js and build-viewer.js.
 */
import { readFileSync, writeFileSync } from "node:fs";

/**
 * @param {string} file the generated file
 * @param {string} text what it must hold
 * @param {{ check: boolean; howToFix: string }} options
 */
export function writeGenerated(file, text, { check, howToFix }) {
  let current;
  try {
    current = readFileSync(file, "utf8");
  } catch {
    current = undefined;
  }
  if (current === text) return;
  if (check) {
    console.error(`${file} is stale: ${howToFix}`);
    process.exit(1);
  }
  writeFileSync(file, text);
  console.error(`Wrote ${file}`);
}
