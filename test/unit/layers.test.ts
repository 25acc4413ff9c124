/**
 * The layering rule, read from the import statements of `src/**\/*.ts`:
 * a folder imports only its own files and the layers below it, runtime
 * modules (`node:`) appear only under src/runtime/, and no files import each
 * other in a circle. CONTRIBUTING.md draws the same table.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { repoRoot } from "./core/fixture.ts";

/** Layers from the top; a layer may import the layers after it, never one before it or beside it. */
const LAYERS: readonly (readonly string[])[] = [
  ["cli"],
  ["demo"],
  ["config"],
  ["admin", "runtime", "tls"],
  ["traces"],
  ["plugins"],
  ["core"],
  ["capture"],
  ["sinks", "s3"],
  ["shared", "version.ts"],
];

const src = join(repoRoot, "src");
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((match) => (match[1] ?? match[2])!);
}

/** The top folder (or file) of src/ a path belongs to, or undefined outside src/. */
function areaOf(path: string): string | undefined {
  const inside = relative(src, path);
  if (inside.startsWith("..")) return undefined;
  return inside.split(/[\\/]/)[0];
}

function rankOf(area: string): number {
  const rank = LAYERS.findIndex((layer) => layer.includes(area));
  assert.notEqual(rank, -1, `src/${area} is in no layer: add it to LAYERS here and to CONTRIBUTING.md`);
  return rank;
}

const files = sourceFiles(src);
const edges = new Map(files.map((file) => [
  file,
  importsOf(file).filter((spec) => spec.startsWith(".")).map((spec) => resolve(dirname(file), spec)),
]));

/** Imports that point up or sideways, as `from -> to` paths inside src/. */
function upwardImports(graph: Map<string, string[]>): string[] {
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
    const from = areaOf(file)!;
    for (const target of targets) {
      const to = areaOf(target);
      if (to === undefined || to === from) continue;
      if (rankOf(to) <= rankOf(from)) wrong.push(`${relative(src, file)} -> ${relative(src, target)}`);
    }
  }
  return wrong;
}

/** Every circle of imports found by a depth-first walk, as `a -> b -> a`. */
function importCycles(graph: Map<string, string[]>): string[] {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(src, f)).join(" -> "));
      return;
    }
    state.set(file, "open");
    for (const target of graph.get(file) ?? []) if (graph.has(target)) visit(target, [...path, file]);
    state.set(file, "done");
  };
  for (const file of graph.keys()) visit(file, []);
  return cycles;
}

test("imports point down the layers, never up or sideways", () => {
  assert.deepEqual(upwardImports(edges), [], "imports that point up or sideways");
});

/**
 * src/demo/ (the `tapline demo` upstream) uses node:http and ws, which all three runtimes provide; it is demo code
 * that only the demo command loads, so no production path depends on it.
 */
const NODE_MODULES_ALLOWED = new Set(["runtime", "demo"]);

test("runtime modules are imported only under src/runtime/ (and the demo app)", () => {
  const wrong = files.filter((file) => !NODE_MODULES_ALLOWED.has(areaOf(file)!))
    .flatMap((file) => importsOf(file).filter((spec) => spec.startsWith("node:")).map((spec) => `${file}: ${spec}`));
  assert.deepEqual(wrong, []);
});

test("only the demo command imports the demo app", () => {
  const demoCommand = join(src, "cli", "demo-command.ts");
  const wrong = [...edges].filter(([file]) => areaOf(file) !== "demo" && file !== demoCommand)
    .flatMap(([file, targets]) => targets.filter((target) => areaOf(target) === "demo").map(() => relative(src, file)));
  assert.deepEqual(wrong, []);
});

test("no import cycles", () => {
  assert.deepEqual(importCycles(edges), []);
});

test("the checks catch an upward edge, a sideways edge and a cycle", () => {
  const at = (path: string) => join(src, path);
  const bad = new Map([
    [at("core/exchange.ts"), [at("plugins/chain.ts"), at("capture/pipeline.ts")]],
    [at("admin/app.ts"), [at("runtime/types.ts")]],
    [at("capture/a.ts"), [at("capture/b.ts")]],
    [at("capture/b.ts"), [at("capture/a.ts")]],
  ]);
  assert.deepEqual(upwardImports(bad), ["core/exchange.ts -> plugins/chain.ts", "admin/app.ts -> runtime/types.ts"]);
  assert.deepEqual(importCycles(bad), ["capture/a.ts -> capture/b.ts -> capture/a.ts"]);
});
