/** The Node adapter: node:http + undici forwarding, node:fs, process signals. */
import process from "node:process";
import { nodeHttpAdapter } from "./node-http/adapter.ts";
import type { Runtime } from "./types.ts";

/** The Node runtime adapter. */
export const nodeRuntime: Runtime = {
  name: "node",
  version: process.versions.node,
  ...nodeHttpAdapter,
  http2: true,
};
