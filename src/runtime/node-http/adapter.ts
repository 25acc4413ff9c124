/**
 * The adapter parts Node and Deno share: node:http + undici forwarding,
 * node:fs, node:zlib and node:process. Each runtime's file adds its name,
 * version and whatever it does natively.
 */
import type { Route } from "../../core/route.ts";
import type { FetchHandler, Runtime, UpstreamOptions } from "../types.ts";
import { base64 } from "../shared/base64.ts";
import { decompress } from "../shared/decompress.ts";
import { nodeFileSystem } from "../shared/fs.ts";
import { nodePackFiles } from "../shared/pack-files.ts";
import { runCommand } from "../shared/run-command.ts";
import { openNativeSqlite } from "../shared/native-sqlite.ts";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeProxyServer } from "./proxy-server.ts";
import { processOperations } from "../shared/process.ts";
import { NodeSha256 } from "../shared/sha256.ts";

/** Everything of a Runtime except its name, version and whether it speaks HTTP/2. */
export const nodeHttpAdapter: Omit<Runtime, "name" | "version" | "http2"> = {
  createProxyServer: (route: Route, options: UpstreamOptions) => new NodeProxyServer(route, options),
  // @hono/node-server loads only when there is an admin port.
  serveFetch: async (handler: FetchHandler, address) =>
    (await import("./fetch-server.ts")).serveFetchWithNodeHttp(handler, address),
  fs: nodeFileSystem,
  packFiles: nodePackFiles,
  runCommand,
  openNativeSqlite,
  makeTempDir: (prefix) => mkdtemp(join(tmpdir(), prefix)),
  decompress,
  base64,
  sha256: NodeSha256,
  ...processOperations,
};
