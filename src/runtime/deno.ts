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
  // Deno 2.9's node:http2 can abort the whole process inside nghttp2 when a session closes with GOAWAY
  // (denoland/deno#36788; 1 run in 8 of the gRPC tests here): HTTP/1.1 only until that is fixed.
  http2: false,
  args: () => Deno.args,
  onReloadSignal(handler: () => void): void {
    Deno.addSignalListener("SIGHUP", handler);
  },
  execStart: () => [Deno.execPath(), "run", "-A", new URL(Deno.mainModule).pathname],
};
