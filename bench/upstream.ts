/**
 * A small node:http upstream for the benchmark, used with `--upstream node`
 * (the default upstream is nginx, see bench/README.md for the measurement
 * behind that choice). Serves the same routes as the nginx upstream:
 *
 * - `GET /1k`: 1024 bytes of text; `GET /1m`: 1 MiB of text.
 * - `POST` on any path: reads the whole request body and answers `ok\n`.
 *
 * Run standalone: `node dist/bench/upstream.js 18081` (listens on 127.0.0.1).
 */
import { createServer, type Server } from "node:http";
import { pathToFileURL } from "node:url";
import { bodyText } from "./bodies.ts";

/** Start the upstream on 127.0.0.1:`port` and resolve once it listens. */
export function startNodeUpstream(port: number): Promise<Server> {
  const small = Buffer.from(bodyText(1024));
  const large = Buffer.from(bodyText(1024 * 1024));
  const ok = Buffer.from("ok\n");
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (req.method === "POST" || req.method === "PUT") {
      // Drain the body before answering so keep-alive connections stay usable.
      req.on("data", () => {});
      req.on("end", () => send(res, 200, ok));
      return;
    }
    if (req.url === "/1k") return send(res, 200, small);
    if (req.url === "/1m") return send(res, 200, large);
    send(res, 404, Buffer.from("not found\n"));
  });
  server.maxRequestsPerSocket = 0;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

function send(
  res: import("node:http").ServerResponse,
  status: number,
  body: Buffer,
): void {
  res.writeHead(status, {
    "content-type": "text/plain",
    "content-length": String(body.length),
  });
  res.end(body);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const port = Number(process.argv[2] ?? "18081");
  startNodeUpstream(port).then(
    () => process.stderr.write(`{"msg":"ready","port":${port}}\n`),
    (err: unknown) => {
      process.stderr.write(`Upstream failed to listen on 127.0.0.1:${port}: ${String(err)}\n`);
      process.exit(1);
    },
  );
  process.on("SIGTERM", () => process.exit(0));
}
