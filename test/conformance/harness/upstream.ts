/**
 * A real node:http upstream for the conformance suite, bound to 127.0.0.1:0.
 * It records every request it receives (head and full body) and answers by path:
 *
 * - `/bytes/<n>?kind=text|binary` — n bytes; `x-body-sha256` is their sha256.
 * - `/reflect` — the request body back, byte for byte, as application/octet-stream.
 * - `/gzip` — a gzip-compressed text with `content-encoding: gzip`;
 *   `x-body-sha256` is the hash of the compressed bytes, `x-plain-sha256` of the text.
 * - `/slow?chunks=N&interval=MS` — N chunks of text, one every MS ms.
 * - `/delay?ms=N` — the echo below after N ms.
 * - `/status/<code>` — that status with a short text body.
 * - `/hop` — the echo, plus hop-by-hop response headers that must not reach the client.
 * - anything else — an echo: JSON `{method,url,headers,rawHeaders,bodyLength,bodySha256}`,
 *   with `x-upstream: <name>`, two `set-cookie` values and a repeated `x-multi` header.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { RecordingServer } from "./recording-server.ts";
import { gzipSync } from "node:zlib";

/** What the upstream saw of one request. */
export interface UpstreamRequest {
  method: string;
  /** Request target as received (path and query). */
  url: string;
  /** Lower-cased header names; repeated headers joined by node (", "), set-cookie as array. */
  headers: IncomingMessage["headers"];
  /** Name/value pairs exactly as received. */
  rawHeaders: string[];
  body: Buffer;
  sha256: string;
  /** True when the connection closed before the response was finished. */
  aborted: boolean;
}

/** The text the `/gzip` endpoint compresses. */
export const GZIP_PLAIN_TEXT = Array.from(
  { length: 200 },
  (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog\n`,
).join("");

export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** ASCII text of exactly `n` bytes (lines of printable characters). */
export function textBytes(n: number): Buffer {
  const line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ tapline\n";
  return Buffer.from(line.repeat(Math.ceil(n / line.length) + 1).slice(0, n), "latin1");
}

export class Upstream extends RecordingServer<UpstreamRequest> {
  readonly name: string;

  constructor(name: string) {
    super(`Upstream ${name}`);
    this.name = name;
    this.server.on("request", (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
    this.server.keepAliveTimeout = 10_000;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => {});
    res.on("error", () => {});
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const seen: UpstreamRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
        sha256: sha256(body),
        aborted: false,
      };
      this.requests.push(seen);
      res.on("close", () => {
        if (!res.writableFinished) seen.aborted = true;
      });
      this.respond(req, res, seen);
    });
  }

  private respond(req: IncomingMessage, res: ServerResponse, seen: UpstreamRequest): void {
    const url = new URL(seen.url, "http://upstream.invalid");
    const path = url.pathname;
    const q = url.searchParams;
    let m: RegExpExecArray | null;
    if ((m = /^\/bytes\/(\d+)$/.exec(path))) {
      const n = Number(m[1]);
      const body = q.get("kind") === "binary" ? randomBytes(n) : textBytes(n);
      res.writeHead(200, {
        "content-type": q.get("kind") === "binary" ? "application/octet-stream" : "text/plain; charset=utf-8",
        "content-length": String(n),
        "x-body-sha256": sha256(body),
      });
      res.end(body);
    } else if (path === "/reflect") {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(seen.body.length) });
      res.end(seen.body);
    } else if (path === "/gzip") {
      const gz = gzipSync(Buffer.from(GZIP_PLAIN_TEXT, "utf8"));
      res.writeHead(200, {
        "content-type": "text/plain; charset=utf-8",
        "content-encoding": "gzip",
        "content-length": String(gz.length),
        "x-body-sha256": sha256(gz),
        "x-plain-sha256": sha256(GZIP_PLAIN_TEXT),
      });
      res.end(gz);
    } else if (path === "/slow") {
      const chunks = Number(q.get("chunks") ?? "20");
      const interval = Number(q.get("interval") ?? "100");
      res.writeHead(200, { "content-type": "text/plain" });
      let sent = 0;
      const tick = (): void => {
        if (res.destroyed || res.writableEnded) return;
        res.write(`chunk ${sent}\n`);
        sent++;
        if (sent >= chunks) res.end();
        else setTimeout(tick, interval);
      };
      tick();
    } else if (path === "/delay") {
      setTimeout(() => this.echo(res, seen), Number(q.get("ms") ?? "20"));
    } else if ((m = /^\/status\/(\d{3})$/.exec(path))) {
      const body = `status ${m[1]}\n`;
      res.writeHead(Number(m[1]), { "content-type": "text/plain", "content-length": String(Buffer.byteLength(body)) });
      res.end(req.method === "HEAD" ? undefined : body);
    } else if (path === "/trailers") {
      // A chunked body ending with a trailer field.
      res.writeHead(200, { "content-type": "text/plain", "trailer": "x-checksum" });
      res.write("one ");
      res.addTrailers({ "x-checksum": "abc" });
      res.end("two");
    } else if (path === "/hop") {
      res.setHeader("connection", "x-resp-hop");
      res.setHeader("x-resp-hop", "must-not-reach-client");
      res.setHeader("proxy-connection", "keep-alive");
      this.echo(res, seen);
    } else {
      this.echo(res, seen);
    }
  }

  private echo(res: ServerResponse, seen: UpstreamRequest): void {
    const body = Buffer.from(JSON.stringify({
      method: seen.method,
      url: seen.url,
      headers: seen.headers,
      rawHeaders: seen.rawHeaders,
      bodyLength: seen.body.length,
      bodySha256: seen.sha256,
    }));
    res.statusCode = 200;
    res.setHeader("content-type", "application/json");
    res.setHeader("content-length", String(body.length));
    res.setHeader("x-upstream", this.name);
    res.setHeader("set-cookie", ["a=1; Path=/", "b=2; Path=/"]);
    res.setHeader("x-multi", ["one", "two"]);
    res.end(seen.method === "HEAD" ? undefined : body);
  }
}

/** Start an upstream named `name` on 127.0.0.1:0. */
export function startUpstream(name: string): Promise<Upstream> {
  return new Upstream(name).listen();
}

/** A 127.0.0.1 port nothing listens on (bound once, then released). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
