/**
 * Forwarding with node:http on the client side and undici's `Pool.dispatch`
 * on the upstream side, used on Node and Deno. Dispatch hands raw header
 * bytes, the status text and body chunks straight to this handler, so a
 * response streams from the upstream socket to the client socket with no
 * intermediate stream objects; backpressure pauses the upstream.
 */
import { Buffer } from "node:buffer";
import http from "node:http";
import { CONNECT_REFUSAL } from "../../core/request-refusal.ts";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { Pool } from "undici";
import type { Dispatcher } from "undici";
import { concatBytes } from "../../shared/bytes.ts";
import type { Exchange } from "../../core/exchange.ts";
import type { ResponseHead } from "../../core/hooks.ts";
import type { RawHeaders } from "../../shared/raw-headers.ts";
import type { Route } from "../../core/route.ts";
import type { ListenAddress, Listener, ProxyServer, TlsMaterial, UpstreamOptions } from "../types.ts";
import type { Duplex, Readable } from "node:stream";
import { type NodeUpgrade, NodeWebSocketUpgrades } from "./websocket.ts";
import { isWebSocketUpgrade } from "./websocket-upstream.ts";
import { acceptHttp2, type ClientAddress, HTTP2_TLS_OPTIONS, type Http2Sessions } from "./http2-listener.ts";
import { http1RequestHeaders } from "../../core/http2-headers.ts";
import { type ClientResponse, Http2Reply } from "./client-response.ts";
import type http2 from "node:http2";
import { Http2Upstream } from "./http2-upstream.ts";
import { announcesTrailers, Http1TrailersUpstream } from "./http1-trailers-upstream.ts";

/** Streams an upstream response into a client response, with the exchange's tee. */
class UpstreamToClient implements Dispatcher.DispatchHandler {
  readonly #exchange: Exchange;
  readonly #res: ClientResponse;
  /** HTTP/2 carries trailers after a body of known length too; HTTP/1.1 only after a chunked one. */
  readonly #trailersWhenWhole: boolean;
  #abort: ((reason?: Error) => void) | undefined;
  #headSent = false;
  #done = false;
  /** Body chunks held for onResponseBody hooks, and their size. */
  #held: Buffer[] | undefined;
  #heldSize = 0;

  constructor(exchange: Exchange, res: ClientResponse) {
    this.#exchange = exchange;
    this.#res = res;
    this.#trailersWhenWhole = res instanceof Http2Reply;
    res.once("close", () => {
      if (this.#done) return;
      // The client went away before the response was complete.
      this.#done = true;
      this.#abort?.(new Error("Client disconnected"));
      this.#exchange.finish({ clientGone: true });
    });
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.#abort = abort;
    if (this.#done) abort(new Error("Client disconnected"));
  }

  onHeaders(status: number, rawHeaders: Buffer[] | string[], resume: () => void, statusText: string): boolean {
    if (this.#done) return false;
    const headers: RawHeaders = new Array<string>(rawHeaders.length);
    for (let i = 0; i < rawHeaders.length; i++) {
      const part = rawHeaders[i]!;
      headers[i] = typeof part === "string" ? part : part.toString("latin1");
    }
    const head = this.#exchange.responseHead(status, statusText, headers);
    this.#res.on("drain", resume);
    if (this.#exchange.holdsResponseBody) this.#held = [];
    else this.#writeHead(head);
    return true;
  }

  #writeHead(head: ResponseHead): void {
    this.#res.writeHead(head.status, head.statusText || undefined, head.headers);
    this.#headSent = true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#done) return false;
    const held = this.#held;
    if (held !== undefined) {
      held.push(chunk);
      this.#heldSize += chunk.byteLength;
      if (this.#heldSize <= this.#exchange.holdLimit) return true;
      // Too large for the body hooks: send what is held and stream the rest.
      this.#held = undefined;
      this.#writeHead(this.#exchange.abandonHold());
      let ready = true;
      for (const part of held) {
        const out = this.#exchange.responseChunk(part);
        if (out !== undefined) ready = this.#res.write(out);
      }
      return ready;
    }
    const out = this.#exchange.responseChunk(chunk);
    return out === undefined || this.#res.write(out);
  }

  onComplete(trailers: Buffer[] | string[] | null): void {
    if (this.#done) return;
    this.#done = true;
    const raw = trailers === null ? [] : trailers.map((part) => part.toString("latin1"));
    if (raw.length > 0) {
      const fields = this.#exchange.responseTrailers(raw);
      // A body held for plugins goes out whole, with a length, which carries no trailers (node:http drops them
      // from any response that is not chunked, e.g. to an HTTP/1.0 client).
      if (this.#held === undefined || this.#trailersWhenWhole) {
        const pairs: Array<[string, string]> = [];
        for (let i = 0; i + 1 < fields.length; i += 2) pairs.push([fields[i]!, fields[i + 1]!]);
        this.#res.addTrailers(pairs);
      }
    }
    const held = this.#held;
    if (held !== undefined) {
      this.#held = undefined;
      const reply = this.#exchange.releaseHeldResponse(concatBytes(held));
      this.#writeHead(reply.head);
      this.#res.end(reply.body);
    } else {
      const tail = this.#exchange.responseEnd();
      if (tail !== undefined) this.#res.end(tail);
      else this.#res.end();
    }
    this.#exchange.finish();
  }

  onError(error: Error): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#headSent) {
      // Too late for a 502: cut the client's response so it sees the failure too.
      this.#res.destroy(error);
      this.#exchange.finish({ error });
      return;
    }
    this.#held = undefined;
    const { head, body } = this.#exchange.badGateway(error);
    this.#res.writeHead(head.status, head.statusText, head.headers);
    this.#exchange.responseChunk(body);
    this.#res.end(body);
    this.#exchange.finish();
  }
}

/** Sends the exchange's direct response (a plugin answered, or failed closed). */
function sendDirect(exchange: Exchange, req: Readable, res: ClientResponse): void {
  const { head, body } = exchange.sendDirect();
  res.writeHead(head.status, head.statusText || undefined, head.headers);
  res.end(body);
  // The request body, if any, is not wanted: read it away so the connection can be reused.
  req.resume();
  exchange.finish();
}

/** The client's request trailers, known once its body ended. */
interface RequestTrailers {
  fields: RawHeaders;
}

/**
 * Tees the request body through the exchange while the upstream client reads
 * it (and sends what the exchange returns); at its end, records the client's
 * trailers into `trailers` for an upstream that can send them.
 */
async function* teeRequestBody(
  req: Readable,
  exchange: Exchange,
  trailers: RequestTrailers,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of req as AsyncIterable<Buffer>) {
    const out = exchange.requestChunk(chunk);
    if (out !== undefined) yield out;
  }
  takeTrailers(req, exchange, trailers);
  const rest = exchange.requestEnd();
  if (rest !== undefined) yield rest;
}

/** Records the client's trailers once its body has been read, and keeps them to send upstream. */
function takeTrailers(req: Readable, exchange: Exchange, trailers: RequestTrailers): void {
  // node:http and node:http2's compatibility API both have them once the body ended.
  const raw = (req as Readable & { rawTrailers?: string[] }).rawTrailers;
  if (raw !== undefined && raw.length > 0) trailers.fields = exchange.requestTrailers(raw);
}

/** A body the hooks passed on as a stream, taking the client's trailers when it ends. */
async function* thenTrailers(
  body: AsyncIterable<Uint8Array>,
  req: Readable,
  exchange: Exchange,
  trailers: RequestTrailers,
): AsyncGenerator<Uint8Array> {
  yield* body;
  takeTrailers(req, exchange, trailers);
}

function hasRequestBody(req: http.IncomingMessage): boolean {
  const length = req.headers["content-length"];
  if (length !== undefined) return length !== "0";
  return req.headers["transfer-encoding"] !== undefined;
}

/** A route's upstream pool and its node:http listeners. */
export class NodeProxyServer implements ProxyServer {
  readonly #route: Route;
  readonly #pool: Pool;
  readonly #servers: http.Server[] = [];
  readonly #upgrades: NodeWebSocketUpgrades;
  readonly #http2: boolean;
  readonly #http2Sessions: Http2Sessions[] = [];
  /** HTTP/2 to the upstream (`upstream_proto=h2`, or `auto` with an https upstream); else undici's HTTP/1.1 pool. */
  readonly #http2Upstream: Http2Upstream | undefined;
  /** HTTP/1.1 for requests that announce trailers, made on first use. */
  #trailersUpstream: Http1TrailersUpstream | undefined;
  readonly #rejectUnauthorized: boolean;
  #draining = false;

  constructor(route: Route, options: UpstreamOptions) {
    this.#route = route;
    this.#http2 = options.http2 ?? false;
    this.#upgrades = new NodeWebSocketUpgrades(options);
    this.#rejectUnauthorized = !options.insecureSkipVerify;
    const proto = options.upstreamProto ?? "auto";
    if (proto === "h2" || (proto === "auto" && route.upstream.origin.startsWith("https:"))) {
      this.#http2Upstream = new Http2Upstream(route.upstream.origin, {
        rejectUnauthorized: !options.insecureSkipVerify,
        negotiate: proto === "auto",
      });
    }
    this.#pool = new Pool(route.upstream.origin, {
      // A tap must not cut slow upstreams or long streams; the client decides.
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 30_000,
      connect: { rejectUnauthorized: !options.insecureSkipVerify },
    });
  }

  #begin(req: http.IncomingMessage, secure: boolean): Exchange {
    const socket = req.socket;
    return this.#route.begin({
      method: req.method ?? "GET",
      target: req.url ?? "/",
      headers: req.rawHeaders,
      // A socket reset before the request was parsed has no address left.
      clientIp: socket.remoteAddress ?? "0.0.0.0",
      clientPort: socket.remotePort ?? 0,
      secure,
      httpVersion: req.httpVersion,
    });
  }

  #upgrade(upgrade: NodeUpgrade, secure: boolean): void {
    const { request: req, socket } = upgrade;
    if (!isWebSocketUpgrade(req.rawHeaders)) {
      if (hasRequestBody(req)) {
        socket.end("HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
      }
      // Other upgrades (h2c) may be ignored (RFC 9110 §7.8): forward as a plain request on this socket.
      const res = new http.ServerResponse(req);
      res.assignSocket(socket as Socket);
      res.shouldKeepAlive = false;
      res.once("finish", () => socket.end());
      this.#handle(req, res, secure);
      return;
    }
    void this.#upgrades.handle(this.#begin(req, secure), upgrade);
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse, secure: boolean): void {
    const exchange = this.#begin(req, secure);
    res.sendDate = false;
    if (this.#draining) res.shouldKeepAlive = false;
    this.#serve(exchange, req, hasRequestBody(req), res);
  }

  /** One HTTP/2 stream, forwarded as the HTTP/1.1 request it translates to. */
  #handleHttp2(
    req: http2.Http2ServerRequest,
    res: http2.Http2ServerResponse,
    client: ClientAddress,
    secure: boolean,
  ): void {
    const exchange = this.#route.begin({
      method: req.method,
      target: req.url,
      headers: http1RequestHeaders(req.rawHeaders),
      clientIp: client.ip,
      clientPort: client.port,
      secure,
      httpVersion: "2",
    });
    this.#serve(exchange, req, !req.stream.endAfterHeaders, new Http2Reply(res));
  }

  #serve(exchange: Exchange, req: Readable, hasBody: boolean, res: ClientResponse): void {
    if (exchange.direct) return sendDirect(exchange, req, res);
    if (exchange.holdsRequestBody) {
      void this.#forwardHooked(exchange, req, res);
      return;
    }
    let body: AsyncGenerator<Uint8Array> | null = null;
    const trailers: RequestTrailers = { fields: [] };
    if (hasBody) body = teeRequestBody(req, exchange, trailers);
    else exchange.requestEnd();
    this.#dispatch(exchange, res, body, trailers);
  }

  /** Forwards a request whose body the onRequestBody hooks read first. */
  async #forwardHooked(exchange: Exchange, req: Readable, res: ClientResponse): Promise<void> {
    let body: Uint8Array | AsyncIterable<Uint8Array> | undefined;
    try {
      body = await exchange.hookRequestBody(req);
    } catch (error) {
      exchange.finish({ clientGone: true, error });
      return;
    }
    if (body === undefined) return sendDirect(exchange, req, res);
    const trailers: RequestTrailers = { fields: [] };
    if (body instanceof Uint8Array) takeTrailers(req, exchange, trailers);
    else body = thenTrailers(body, req, exchange, trailers);
    this.#dispatch(exchange, res, body, trailers);
  }

  /** Sends the request upstream; `trailers` reach an HTTP/2 upstream (undici cannot send request trailers). */
  #dispatch(
    exchange: Exchange,
    res: ClientResponse,
    body: Uint8Array | AsyncIterable<Uint8Array> | null,
    trailers?: RequestTrailers,
  ): void {
    const handler = new UpstreamToClient(exchange, res);
    const http1 = (): void => {
      this.#pool.dispatch(
        {
          origin: this.#route.upstream.origin,
          path: exchange.upstreamTarget,
          method: exchange.upstreamMethod as Dispatcher.HttpMethod,
          headers: exchange.upstreamHeaders,
          // undici streams async iterables although its types only list Readable.
          body: body as unknown as Dispatcher.DispatchOptions["body"],
        },
        handler,
      );
    };
    // undici cannot send request trailers: a request that announces them goes through node:http instead.
    const announced = trailers !== undefined && body !== null && announcesTrailers(exchange.request.headers);
    const trailerAware = !announced ? http1 : (): void => {
      this.#trailersUpstream ??= new Http1TrailersUpstream(this.#route.upstream.origin, {
        rejectUnauthorized: this.#rejectUnauthorized,
      });
      this.#trailersUpstream.dispatch({
        method: exchange.upstreamMethod,
        path: exchange.upstreamTarget,
        // `Trailer` stays out, as every hop-by-hop header does (http-tap-proxy's rule); the fields follow the body.
        headers: exchange.upstreamHeaders,
        body,
        trailers: () => trailers!.fields,
      }, handler);
    };
    if (this.#http2Upstream === undefined) return trailerAware();
    this.#http2Upstream.dispatch(
      {
        method: exchange.upstreamMethod,
        path: exchange.upstreamTarget,
        headers: exchange.upstreamHeaders,
        body,
        ...(trailers ? { trailers: () => trailers.fields } : {}),
      },
      handler,
      trailerAware,
    );
  }

  listen(address: ListenAddress, tls?: TlsMaterial): Promise<Listener> {
    const options: http.ServerOptions = {
      // Long uploads and slow clients are the client's business, not the tap's.
      requestTimeout: 0,
      requireHostHeader: false,
      maxHeaderSize: 64 * 1024,
      keepAliveTimeout: 5_000,
    };
    const secure = tls !== undefined;
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => this.#handle(req, res, secure);
    const server = tls
      ? https.createServer(
        { ...options, cert: tls.cert, key: tls.key, ...(this.#http2 ? HTTP2_TLS_OPTIONS : {}) },
        onRequest,
      )
      : http.createServer(options, onRequest);
    let sessions: Http2Sessions | undefined;
    if (this.#http2) {
      sessions = acceptHttp2(server, secure, (req, res, client) => this.#handleHttp2(req, res, client, secure));
      this.#http2Sessions.push(sessions);
    }
    server.on(
      "upgrade",
      (request: http.IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade({ request, socket, head }, secure),
    );
    // node:http hands CONNECT to this event (without a listener it drops the connection): answer as every runtime does.
    server.on("connect", (_request: http.IncomingMessage, socket: Duplex) => refuseConnect(socket));
    this.#servers.push(server);
    return listenOn(server, address, sessions);
  }

  drain(): void {
    this.#draining = true;
    for (const sessions of this.#http2Sessions) sessions.drain();
  }

  async close(): Promise<void> {
    await Promise.all([this.#pool.close(), this.#http2Upstream?.close()]);
    this.#trailersUpstream?.close();
  }
}

/** Writes the 405 for CONNECT on a raw socket and closes it. */
function refuseConnect(socket: Duplex): void {
  const body = CONNECT_REFUSAL.body ?? "";
  const head = [
    "HTTP/1.1 405 Method Not Allowed",
    ...Object.entries(CONNECT_REFUSAL.headers ?? {}).map(([name, value]) => `${name}: ${String(value)}`),
    `content-length: ${Buffer.byteLength(body)}`,
    "connection: close",
  ];
  socket.on("error", () => {});
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
}

/** Binds a node:http(s) server and wraps it as a Listener, with its HTTP/2 sessions when it has them. */
export function listenOn(server: http.Server, address: ListenAddress, http2?: Http2Sessions): Promise<Listener> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: address.host || undefined, port: address.port }, () => {
      server.off("error", reject);
      const bound = server.address() as AddressInfo;
      const host = bound.family === "IPv6" || bound.address.includes(":") ? `[${bound.address}]` : bound.address;
      resolve({
        address: `${host}:${bound.port}`,
        http2: http2 !== undefined,
        stop: () => {
          // Not waiting for close(): it resolves only when every keep-alive
          // connection has gone, and shutdown waits for exchanges instead.
          server.close();
          server.closeIdleConnections();
          return Promise.resolve();
        },
        closeAll: () => {
          server.closeAllConnections();
          http2?.closeAll();
        },
      });
    });
  });
}
