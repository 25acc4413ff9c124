/**
 * The streaming benchmark's upstream: node:http with a `ws` echo on every
 * WebSocket upgrade and a Server-Sent Events stream on `GET /sse`.
 *
 * - WebSocket (any path): each text or binary message is sent back as is
 *   (same opcode); permessage-deflate off.
 * - `GET /sse`: an endless event stream of fixed-size events
 *   (`sseEvent(seq)`), written as fast as the client reads: events are
 *   written until `res.write` reports a full buffer, then again on `drain`.
 *   `GET /sse?count=N` ends the stream after N events (the harness's check).
 *
 * Run standalone: `node dist/bench/stream-upstream.js 18381` (127.0.0.1 only).
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import { pathToFileURL } from "node:url";
import { WebSocketServer } from "ws";

const SEQ_WIDTH = 12;
const FILLER = "x".repeat(48);

/**
 * Event number `seq` as it goes on the wire. Every event has the same length
 * (`SSE_EVENT_BYTES`), so a client counts events by counting bytes.
 * @example sseEvent(7) // 'data: {"seq":"000000000007","type":"delta","text":"xxx…"}\n\n'
 */
export function sseEvent(seq: number): string {
  const padded = String(seq % 10 ** SEQ_WIDTH).padStart(SEQ_WIDTH, "0");
  return `data: {"seq":"${padded}","type":"delta","text":"${FILLER}"}\n\n`;
}

/** Bytes of one event, `data:` line and blank line included (~100 bytes of data). */
export const SSE_EVENT_BYTES = sseEvent(0).length;

function streamEvents(res: ServerResponse, limit: number): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  let seq = 0;
  const pump = () => {
    // node:http corks the socket for the current tick, so each burst leaves as one writev.
    while (!res.destroyed) {
      if (seq >= limit) {
        res.end();
        return;
      }
      if (!res.write(sseEvent(seq++))) {
        // A fast reader drains the socket within the same tick chain; setImmediate lets
        // other connections (and new streams) get served in between.
        res.once("drain", () => setImmediate(pump));
        return;
      }
    }
  };
  pump();
}

/** Start the upstream on 127.0.0.1:`port` and resolve once it listens. */
export function startStreamUpstream(port: number): Promise<Server> {
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const url = new URL(req.url ?? "/", "http://upstream");
    if (req.method === "GET" && url.pathname === "/sse") {
      const count = url.searchParams.get("count");
      return streamEvents(res, count === null ? Infinity : Number(count));
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found\n");
  });
  server.maxRequestsPerSocket = 0;
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: false,
    skipUTF8Validation: true,
    clientTracking: false,
    maxPayload: 64 * 1024 * 1024,
  });
  wss.on("connection", (ws) => {
    ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    ws.on("error", () => {});
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const port = Number(process.argv[2] ?? "18381");
  startStreamUpstream(port).then(
    () => process.stderr.write(`{"msg":"ready","port":${port}}\n`),
    (err: unknown) => {
      process.stderr.write(`Stream upstream failed to listen on 127.0.0.1:${port}: ${String(err)}\n`);
      process.exit(1);
    },
  );
  process.on("SIGTERM", () => process.exit(0));
}
