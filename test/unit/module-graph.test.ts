/**
 * Single binaries (`bun build --compile`, `deno compile`) embed the module
 * graph they can see statically: an `import()` whose specifier is computed
 * would be missing from the binary. Every dynamic import in src/ must name a
 * string literal.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { repoRoot } from "./plugins/bundled-fixture.ts";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

/** The argument text of every `import(` call in `text` (comments included: harmless, and simpler to be strict). */
export function dynamicImports(text: string): string[] {
  return [...text.matchAll(/\bimport\s*\(\s*([^)]*?)\s*\)/g)].map((match) => match[1]!);
}

const LITERAL = /^(["'])[^"'`]+\1$|^`[^`$]+`$/;

test("every dynamic import in src/ names a string literal, so binaries embed it", () => {
  const root = repoRoot();
  const found: string[] = [];
  for (const file of sources(join(root, "src"))) {
    for (const specifier of dynamicImports(readFileSync(file, "utf8"))) {
      if (!LITERAL.test(specifier)) found.push(`${relative(root, file)}: import(${specifier})`);
    }
  }
  assert.deepEqual(found, []);
});

test("the check catches computed specifiers", () => {
  const computed = ['"node:" + "sqlite"', "`./${name}.ts`", "name", "`plain`"].filter((s) => !LITERAL.test(s));
  assert.deepEqual(computed, ['"node:" + "sqlite"', "`./${name}.ts`", "name"]);
  assert.deepEqual(dynamicImports('const m = await import("./a.ts"); import ( x );'), ['"./a.ts"', "x"]);
});
