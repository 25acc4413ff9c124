/**
 * Picks the adapter of the runtime this process runs on. The imports are
 * literal so bundlers and `bun build --compile` see the whole module graph.
 */
import type { Runtime } from "./types.ts";

/** The adapter for the current runtime: Bun, Deno, else Node. */
export async function detectRuntime(): Promise<Runtime> {
  if ("Bun" in globalThis) return (await import("./bun/index.ts")).bunRuntime;
  if ("Deno" in globalThis) return (await import("./deno.ts")).denoRuntime;
  return (await import("./node.ts")).nodeRuntime;
}
