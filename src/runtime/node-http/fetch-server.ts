/** Serves a Web-standard fetch handler (the Hono admin app) with node:http. */
import http from "node:http";
import { getRequestListener } from "@hono/node-server";
import type { FetchHandler, ListenAddress, Listener } from "../types.ts";
import { listenOn } from "./proxy-server.ts";

/** Binds `handler` on `address` with node:http. */
export function serveFetchWithNodeHttp(handler: FetchHandler, address: ListenAddress): Promise<Listener> {
  const server = http.createServer(getRequestListener(handler));
  return listenOn(server, address);
}
