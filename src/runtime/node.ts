/** The Node adapter: node:http + undici forwarding, node:fs, process signals. */
import process from "node:process";
import type { Route } from "../core/route.ts";
import { base64 } from "./shared/base64.ts";
import { decompress } from "./shared/decompress.ts";
import { nodeFileSystem } from "./shared/fs.ts";
import type { FetchHandler } from "./types.ts";
import { NodeProxyServer } from "./shared/node-proxy.ts";
import { processOperations } from "./shared/process.ts";
import type { Runtime, UpstreamOptions } from "./types.ts";

/** The Node runtime adapter. */
export const nodeRuntime: Runtime = {
  name: "node",
  version: process.versions.node,
  createProxyServer: (route: Route, options: UpstreamOptions) => new NodeProxyServer(route, options),
  serveFetch: async (handler: FetchHandler, address) =>
    (await import("./shared/node-fetch-server.ts")).serveFetchWithNodeHttp(handler, address),
  fs: nodeFileSystem,
  decompress,
  base64,
  ...processOperations,
};
