/**
 * The Deno adapter. Deno runs the same node:http + undici forwarding as Node:
 * measured faster here than Deno.serve with a fetch tee (0.42 vs 0.21 of
 * nginx), and it passes compressed bodies through untouched.
 */
import type { Route } from "../core/route.ts";
import { processOperations } from "./shared/process.ts";
import type { FetchHandler } from "./types.ts";
import { NodeProxyServer } from "./shared/node-proxy.ts";
import { base64 } from "./shared/base64.ts";
import { decompress } from "./shared/decompress.ts";
import { nodeFileSystem } from "./shared/fs.ts";
import type { Runtime, UpstreamOptions } from "./types.ts";

interface DenoGlobal {
  version: { deno: string };
  args: string[];
  mainModule: string;
  execPath(): string;
  addSignalListener(signal: "SIGTERM" | "SIGINT", handler: () => void): void;
}

const Deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;

/** The Deno runtime adapter. */
export const denoRuntime: Runtime = {
  name: "deno",
  version: Deno.version.deno,
  createProxyServer: (route: Route, options: UpstreamOptions) => new NodeProxyServer(route, options),
  serveFetch: async (handler: FetchHandler, address) =>
    (await import("./shared/node-fetch-server.ts")).serveFetchWithNodeHttp(handler, address),
  fs: nodeFileSystem,
  decompress,
  base64,
  ...processOperations,
  args: () => Deno.args,
  onShutdownSignal(handler: (signal: string) => void): void {
    for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, () => handler(signal));
  },
  execStart: () => [Deno.execPath(), "run", "-A", new URL(Deno.mainModule).pathname],
};
