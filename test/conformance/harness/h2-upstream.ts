/**
 * An HTTP/2 upstream for the upstream_proto cases, written with node:http2's
 * compatibility API: h2c with prior knowledge, or TLS offering h2 (and
 * http/1.1 when `allowHTTP1`), or TLS with http/1.1 only (`https`).
 *
 * - `/echo…`: the request as the upstream saw it, as JSON (protocol version, headers, body hash and size).
 * - `/trailers…`: `one two`, then the trailers `x-checksum: abc` and `grpc-status: 0`.
 * - `/big?size=N…`: N bytes of a repeating pattern written with backpressure, then the trailer `x-size: N`.
 * - `/goaway…`: `bye`, then the session gets GOAWAY (a graceful close).
 * - `/reset…`: the stream is reset (INTERNAL_ERROR) before any response.
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import http2 from "node:http2";
import https from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the upstream received it. */
export interface SeenRequest {
  version: string;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  bodySha256: string;
  bodySize: number;
  /** Trailer fields the request ended with (empty when none). */
  trailers: IncomingHttpHeaders;
}

export interface H2Upstream {
  url: string;
  seen: SeenRequest[];
  /** HTTP/2 sessions accepted so far. */
  readonly sessions: number;
  close(): Promise<void>;
}

type Request = http2.Http2ServerRequest | import("node:http").IncomingMessage;
type Response = http2.Http2ServerResponse | import("node:http").ServerResponse;

/** The pattern `/big` repeats; tests hash the same bytes. */
export function bigBody(size: number): Buffer {
  return Buffer.alloc(size, "0123456789abcdef");
}

/** Starts an upstream on 127.0.0.1 with a free port. */
export async function startH2Upstream(
  mode: { kind: "h2c" } | { kind: "h2-tls"; cert: string; key: string } | {
    kind: "h1-tls";
    cert: string;
    key: string;
  },
): Promise<H2Upstream> {
  const seen: SeenRequest[] = [];
  let sessions = 0;
  const handle = (req: Request, res: Response) => void serve(req, res, seen);
  const server = mode.kind === "h2c"
    ? http2.createServer(handle)
    : mode.kind === "h2-tls"
    ? http2.createSecureServer({ cert: mode.cert, key: mode.key, allowHTTP1: true }, handle)
    : https.createServer({ cert: mode.cert, key: mode.key }, handle);
  server.on("session", () => sessions++);
  const open = new Set<{ destroy(): void }>();
  server.on("session", (session: http2.ServerHttp2Session) => {
    open.add(session);
    session.on("close", () => open.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const scheme = mode.kind === "h2c" ? "http" : "https";
  return {
    url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    get sessions() {
      return sessions;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of open) session.destroy();
        if ("closeAllConnections" in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function serve(req: Request, res: Response, seen: SeenRequest[]): Promise<void> {
  const url = new URL(req.url ?? "/", "http://upstream");
  if (url.pathname === "/reset" && "stream" in req) {
    req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  const request: SeenRequest = {
    version: req.httpVersion,
    method: req.method ?? "",
    path: req.url ?? "",
    headers: req.headers,
    bodySha256: hash.digest("hex"),
    bodySize: size,
    trailers: Object.fromEntries(Object.entries(req.trailers)),
  };
  seen.push(request);
  switch (url.pathname) {
    case "/echo":
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(request));
      return;
    case "/trailers":
      res.writeHead(200, { "content-type": "text/plain", trailer: "x-checksum, grpc-status" });
      res.addTrailers({ "x-checksum": "abc", "grpc-status": "0" });
      res.end("one two");
      return;
    case "/big": {
      const body = bigBody(Number(url.searchParams.get("size")));
      res.writeHead(200, { "content-type": "application/octet-stream" });
      for (let at = 0; at < body.length; at += 16_384) {
        // Both response kinds write the same way; their union's overloads do not line up for TypeScript.
        const out = res as http2.Http2ServerResponse;
        if (!out.write(body.subarray(at, at + 16_384))) await new Promise((resolve) => out.once("drain", resolve));
      }
      res.addTrailers({ "x-size": String(body.length) });
      res.end();
      return;
    }
    case "/goaway":
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("bye", () => {
        if ("stream" in req) req.stream.session?.close();
      });
      return;
    default:
      res.writeHead(404);
      res.end();
  }
}
