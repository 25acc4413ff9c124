/**
 * The Deno adapter. Deno runs the same node:http + undici forwarding as Node:
 * measured faster here than Deno.serve with a fetch tee (0.42 vs 0.21 of
 * nginx), and it passes compressed bodies through untouched.
 */
import { nodeHttpAdapter } from "./node-http/adapter.ts";
import type { Runtime } from "./types.ts";

interface DenoGlobal {
  version: { deno: string };
  args: string[];
  mainModule: string;
  execPath(): string;
  addSignalListener(signal: "SIGHUP", handler: () => void): void;
}

const Deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;

/** The Deno runtime adapter. */
export const denoRuntime: Runtime = {
  name: "deno",
  version: Deno.version.deno,
  ...nodeHttpAdapter,
  args: () => Deno.args,
  onReloadSignal(handler: () => void): void {
    Deno.addSignalListener("SIGHUP", handler);
  },
  execStart: () => [Deno.execPath(), "run", "-A", new URL(Deno.mainModule).pathname],
};
