/**
 * HTTP/1.1 to an upstream for a request that announces trailers (a
 * `Trailer` request header), with node:http: undici, the HTTP/1.1 client of
 * every other request, cannot send request trailers. Such requests are rare
 * (browsers never send trailers, gRPC speaks HTTP/2), so they get their own
 * keep-alive agent instead of a second pool on the hot path.
 */
import http from "node:http";
import https from "node:https";
import type { Buffer } from "node:buffer";
import { patchHeaders, type RawHeaders } from "../../shared/raw-headers.ts";
import type { UpstreamHandler, UpstreamRequest } from "./upstream-request.ts";

/** Whether the client said its request ends with trailers (`Trailer: x-sum`). */
export function announcesTrailers(headers: RawHeaders): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.length === 7 && headers[i]!.toLowerCase() === "trailer") return true;
  }
  return false;
}

/** Requests with trailers to one upstream origin over HTTP/1.1. */
export class Http1TrailersUpstream {
  readonly #origin: URL;
  readonly #agent: http.Agent;

  constructor(origin: string, options: { rejectUnauthorized: boolean }) {
    this.#origin = new URL(origin);
    this.#agent = this.#origin.protocol === "https:"
      ? new https.Agent({ keepAlive: true, rejectUnauthorized: options.rejectUnauthorized })
      : new http.Agent({ keepAlive: true });
  }

  /** Sends a request with a chunked body and the trailers `request.trailers` gives once the body has been sent. */
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    const client = this.#origin.protocol === "https:" ? https : http;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      handler.onError(error);
    };
    const req = client.request({
      protocol: this.#origin.protocol,
      hostname: this.#origin.hostname,
      port: this.#origin.port,
      method: request.method,
      path: request.path,
      // Trailers need chunked framing.
      headers: patchHeaders(request.headers, { "content-length": null, "transfer-encoding": "chunked" }),
      agent: this.#agent,
      setHost: false,
    });
    handler.onConnect((reason) => {
      if (settled) return;
      settled = true;
      req.destroy(reason);
    });
    req.on("error", fail);
    req.on("response", (res) => {
      if (settled) return res.resume();
      const paused = handler.onHeaders(
        res.statusCode ?? 502,
        res.rawHeaders,
        () => res.resume(),
        res.statusMessage ?? "",
      );
      if (paused === false) res.pause();
      res.on("data", (chunk: Buffer) => {
        if (!settled && handler.onData(chunk) === false) res.pause();
      });
      res.on("end", () => {
        if (settled) return;
        settled = true;
        handler.onComplete(res.rawTrailers);
      });
      res.on("error", fail);
      res.on("close", () => {
        if (!res.complete) fail(new Error("The upstream closed the connection before the response was complete"));
      });
    });
    void sendBody(req, request);
  }

  /** Closes idle connections; requests in flight finish. */
  close(): void {
    this.#agent.destroy();
  }
}

/** Writes the body with backpressure, then the trailers; a failing source aborts the request. */
async function sendBody(req: http.ClientRequest, request: UpstreamRequest): Promise<void> {
  try {
    const body = request.body;
    if (body instanceof Uint8Array) req.write(body);
    else if (body !== null) {
      for await (const chunk of body) {
        if (req.destroyed) return;
        if (!req.write(chunk)) await new Promise<void>((resolve) => req.once("drain", resolve).once("close", resolve));
      }
    }
    const trailers = request.trailers?.() ?? [];
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i + 1 < trailers.length; i += 2) pairs.push([trailers[i]!, trailers[i + 1]!]);
    try {
      if (pairs.length > 0) req.addTrailers(pairs);
    } catch {
      // A field node:http refuses (an invalid name or value): the request ends without trailers, as over HTTP/2.
    }
    req.end();
  } catch (error) {
    req.destroy(error as Error);
  }
}
