/**
 * A node:http(s) client that returns raw bytes and raw headers, so nothing is
 * decompressed or normalised between tapline and the assertion.
 */
import { type Agent, type IncomingHttpHeaders, type OutgoingHttpHeaders, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { TLSSocket } from "node:tls";

export interface ClientResponse {
  status: number;
  statusMessage: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  /** The client's local port, i.e. what tapline should record as the client port. */
  localPort: number;
  /** For https: the peer certificate as node reports it. */
  peerCertificate?: ReturnType<TLSSocket["getPeerCertificate"]>;
}

export interface RequestOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  /** A whole body, or chunks written one by one (chunked, no content-length) with `chunkDelayMs` between them. */
  body?: Buffer | string | Array<Buffer | string>;
  chunkDelayMs?: number;
  /** Default: a fresh connection per request. */
  agent?: Agent | false;
  timeoutMs?: number;
  /** https only. */
  rejectUnauthorized?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Send one request and read the whole response. Rejects on connection errors and after `timeoutMs` (default 15 s). */
export function request(url: string, options: RequestOptions = {}): Promise<ClientResponse> {
  const target = new URL(url);
  const isHttps = target.protocol === "https:";
  const headers: OutgoingHttpHeaders = { ...options.headers };
  const body = options.body;
  if (
    body !== undefined && !Array.isArray(body) && !hasHeader(headers, "content-length") &&
    !hasHeader(headers, "transfer-encoding")
  ) {
    headers["content-length"] = Buffer.byteLength(body);
  }
  if (Array.isArray(body) && !hasHeader(headers, "transfer-encoding")) headers["transfer-encoding"] = "chunked";
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const common = {
      method: options.method ?? (body === undefined ? "GET" : "POST"),
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      headers,
      agent: options.agent ?? false,
    };
    const req = isHttps
      ? httpsRequest({ ...common, rejectUnauthorized: options.rejectUnauthorized ?? true })
      : httpRequest(common);
    const timer = setTimeout(
      () => req.destroy(new Error(`Request to ${url} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      const socket = res.socket;
      const localPort = socket?.localPort ?? 0;
      const peerCertificate = isHttps ? (socket as TLSSocket).getPeerCertificate(false) : undefined;
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      res.on("end", () => {
        clearTimeout(timer);
        const out: ClientResponse = {
          status: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? "",
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks),
          localPort,
        };
        if (peerCertificate) out.peerCertificate = peerCertificate;
        resolve(out);
      });
      res.on("aborted", () => {
        clearTimeout(timer);
        reject(new Error(`Response from ${url} aborted`));
      });
    });
    if (Array.isArray(body)) {
      void (async () => {
        for (const [i, chunk] of body.entries()) {
          if (i > 0 && options.chunkDelayMs) await sleep(options.chunkDelayMs);
          req.write(chunk);
        }
        req.end();
      })();
    } else {
      req.end(body);
    }
  });
}

function hasHeader(headers: OutgoingHttpHeaders, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

/** Header values from node's rawHeaders, matched case-insensitively. */
export function rawValues(rawHeaders: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === name.toLowerCase()) out.push(rawHeaders[i + 1]!);
  }
  return out;
}

/** GET JSON from a URL; throws with the body when the status is not `expectStatus`. */
export async function getJson(url: string, expectStatus = 200): Promise<{ res: ClientResponse; json: unknown }> {
  const res = await request(url);
  if (res.status !== expectStatus) {
    throw new Error(`GET ${url}: status ${res.status}, body ${res.body.toString("utf8").slice(0, 500)}`);
  }
  return { res, json: JSON.parse(res.body.toString("utf8")) as unknown };
}

/** An HTTP/1.1 chunked POST that ends with `trailers`; resolves with the status once the response ended. */
export function postWithTrailers(
  url: string,
  body: string,
  trailers: Record<string, string> | Array<[string, string]>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const names = [...new Set((Array.isArray(trailers) ? trailers : Object.entries(trailers)).map(([name]) => name))];
    const req = httpRequest(url, {
      method: "POST",
      agent: false,
      headers: { "content-type": "text/plain", ...(names.length > 0 ? { trailer: names.join(", ") } : {}) },
    }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.write(body);
    if (names.length > 0) req.addTrailers(trailers);
    req.end();
  });
}
