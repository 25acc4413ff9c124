/**
 * The Bun adapter: Bun.serve on the client side and Bun's fetch with
 * `decompress: false` to the upstream. Bodies of known length up to 64 KiB
 * are read whole, because a stream per exchange costs about half the
 * throughput on Bun; larger and unknown-length bodies stream chunk by chunk.
 */
import type { Exchange } from "../../core/exchange.ts";
import { headerPairs, type RawHeaders } from "../../shared/raw-headers.ts";
import type { Route } from "../../core/route.ts";
import { processOperations } from "../shared/process.ts";
import { type BunUpgrader, bunWebSocketHandlers, upgradeToUpstream } from "./websocket.ts";
import { isWebSocketUpgrade } from "../node-http/websocket-upstream.ts";
import { fetchWouldAddHeaders, forwardWithNodeHttp } from "./node-forward.ts";
import { directResponse, heldResponse } from "./hooked-response.ts";
import { badGatewayResponse, responseInit } from "./responses.ts";
import { concatBytes } from "../../shared/bytes.ts";
import { base64 } from "../shared/base64.ts";
import { decompress } from "../shared/decompress.ts";
import { nodeFileSystem } from "../shared/fs.ts";
import { nodePackFiles } from "../shared/pack-files.ts";
import { runCommand } from "../shared/run-command.ts";
import { openNativeSqlite } from "../shared/native-sqlite.ts";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeSha256 } from "../shared/sha256.ts";
import type {
  FetchHandler,
  ListenAddress,
  Listener,
  ProxyServer,
  Runtime,
  TlsMaterial,
  UpstreamOptions,
} from "../types.ts";

interface BunServer extends BunUpgrader {
  readonly hostname: string;
  readonly port: number;
  requestIP(request: Request): { address: string; port: number } | null;
  stop(closeActiveConnections?: boolean): Promise<void>;
}

interface BunServeOptions {
  hostname?: string;
  port: number;
  tls?: TlsMaterial;
  reusePort?: boolean;
  idleTimeout?: number;
  maxRequestBodySize?: number;
  fetch(request: Request, server: BunServer): Response | undefined | Promise<Response | undefined>;
  websocket?: typeof bunWebSocketHandlers;
}

interface BunGlobal {
  version: string;
  serve(options: BunServeOptions): BunServer;
  /** Runs the garbage collector: `true` waits for it, `false` only asks. */
  gc(force: boolean): void;
}

interface BunFetchInit extends RequestInit {
  decompress?: boolean;
  tls?: { rejectUnauthorized?: boolean };
}

const Bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;

/** Bodies of known length up to this size are read whole instead of streamed. */
const WHOLE_BODY_LIMIT = 64 * 1024;

/**
 * Whether a body can be read whole: known and small, and typed, because Bun
 * adds `content-type: application/octet-stream` to untyped byte bodies (it
 * leaves streamed ones alone) and a tap must not add headers.
 */
function readableWhole(headers: Headers): boolean {
  const length = headers.get("content-length");
  return length !== null && Number(length) <= WHOLE_BODY_LIMIT && headers.has("content-type");
}

function rawHeadersOf(headers: Headers): RawHeaders {
  const raw: RawHeaders = [];
  headers.forEach((value, name) => {
    // Headers joins repeated fields with ", " except Set-Cookie, which must stay separate.
    if (name === "set-cookie") return;
    raw.push(name, value);
  });
  for (const cookie of headers.getSetCookie()) raw.push("set-cookie", cookie);
  return raw;
}

/** What a teed body stream calls on its way; a returned chunk is what is sent on. */
interface TeeCallbacks {
  onChunk(chunk: Uint8Array): Uint8Array | undefined;
  onEnd(): Uint8Array | undefined;
  onCancel(): void;
}

/** Wraps a body stream so each chunk passes the tee on its way. */
function teeStream(
  source: ReadableStream<Uint8Array>,
  { onChunk, onEnd, onCancel }: TeeCallbacks,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Until something is enqueued: a pull that enqueues nothing is not called again, and the reader stalls.
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          const tail = onEnd();
          if (tail !== undefined) controller.enqueue(tail);
          controller.close();
          return;
        }
        const out = onChunk(value);
        if (out !== undefined) {
          controller.enqueue(out);
          return;
        }
      }
    },
    cancel(reason) {
      onCancel();
      return reader.cancel(reason);
    },
  });
}

class BunProxyServer implements ProxyServer {
  readonly #route: Route;
  readonly #options: UpstreamOptions;
  readonly #servers: BunServer[] = [];

  constructor(route: Route, options: UpstreamOptions) {
    this.#route = route;
    this.#options = options;
  }

  async #requestBody(request: Request, exchange: Exchange): Promise<BodyInit | null | undefined> {
    if (request.body === null) {
      exchange.requestEnd();
      return null;
    }
    if (exchange.holdsRequestBody) {
      return await exchange.hookRequestBody(request.body) as BodyInit | undefined;
    }
    if (readableWhole(request.headers)) {
      const bytes = new Uint8Array(await request.arrayBuffer());
      const sent = exchange.requestChunk(bytes);
      const rest = exchange.requestEnd();
      return concatBytes([sent, rest].filter((part) => part !== undefined)) as Uint8Array<ArrayBuffer>;
    }
    return teeStream(request.body, {
      onChunk: (c) => exchange.requestChunk(c),
      onEnd: () => exchange.requestEnd(),
      onCancel: () => {},
    });
  }

  async #handle(request: Request, server: BunServer, secure: boolean): Promise<Response | undefined> {
    const url = request.url;
    const target = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    const client = server.requestIP(request);
    const headers = rawHeadersOf(request.headers);
    const exchange = this.#route.begin({
      method: request.method,
      target,
      headers,
      clientIp: client?.address ?? "0.0.0.0",
      clientPort: client?.port ?? 0,
      secure,
    });
    if (exchange.direct) return directResponse(exchange);
    if (isWebSocketUpgrade(headers)) {
      return upgradeToUpstream({ request, server, exchange, upstreamOptions: this.#options });
    }
    if (fetchWouldAddHeaders(headers)) {
      const body = await this.#requestBody(request, exchange);
      if (body === undefined) return directResponse(exchange);
      return forwardWithNodeHttp({
        request,
        exchange,
        body: body as Uint8Array | ReadableStream<Uint8Array> | null,
        upstreamOptions: this.#options,
      });
    }
    let upstream: Response;
    try {
      const body = await this.#requestBody(request, exchange);
      if (body === undefined) return directResponse(exchange);
      const init: BunFetchInit = {
        method: exchange.upstreamMethod,
        headers: headerPairs(exchange.upstreamHeaders),
        body,
        redirect: "manual",
        decompress: false,
        tls: { rejectUnauthorized: !this.#options.insecureSkipVerify },
        signal: request.signal,
      };
      upstream = await fetch(this.#route.upstream.origin + exchange.upstreamTarget, init);
    } catch (error) {
      if (request.signal.aborted) {
        exchange.finish({ clientGone: true });
        return new Response(null, { status: 499 });
      }
      return badGatewayResponse(exchange, error);
    }
    const head = exchange.responseHead(upstream.status, upstream.statusText, rawHeadersOf(upstream.headers));
    const init = responseInit(head);
    const body = upstream.body;
    if (body === null) {
      const tail = exchange.responseEnd();
      exchange.finish();
      return new Response(tail as Uint8Array<ArrayBuffer> | undefined ?? null, init);
    }
    if (exchange.holdsResponseBody) return heldResponse(exchange, body, () => void body.cancel());
    if (readableWhole(upstream.headers)) {
      try {
        const bytes = new Uint8Array(await upstream.arrayBuffer());
        const out = exchange.responseChunk(bytes);
        const tail = exchange.responseEnd();
        exchange.finish();
        const send = tail === undefined ? out : concatBytes(out === undefined ? [tail] : [out, tail]);
        return new Response(send as Uint8Array<ArrayBuffer> | undefined ?? null, init);
      } catch (error) {
        exchange.finish({ error, clientGone: request.signal.aborted });
        throw error;
      }
    }
    let ended = false;
    const stream = teeStream(body, {
      onChunk: (chunk) => exchange.responseChunk(chunk),
      onEnd: () => {
        ended = true;
        const tail = exchange.responseEnd();
        exchange.finish();
        return tail;
      },
      onCancel: () => {
        if (!ended) exchange.finish({ clientGone: true });
      },
    });
    request.signal.addEventListener("abort", () => {
      if (!ended) exchange.finish({ clientGone: true });
    });
    return new Response(stream, init);
  }

  listen(address: ListenAddress, tls?: TlsMaterial): Promise<Listener> {
    const secure = tls !== undefined;
    const server = Bun.serve({
      hostname: address.host || "0.0.0.0",
      port: address.port,
      ...(tls ? { tls } : {}),
      // Sibling --workers bind the same address; the kernel spreads connections among them.
      ...(this.#options.sharedListeners ? { reusePort: true } : {}),
      // No idle cut-off: long polls and quiet streams are the client's business.
      idleTimeout: 0,
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      fetch: (request, srv) => this.#handle(request, srv, secure),
      websocket: bunWebSocketHandlers,
    });
    this.#servers.push(server);
    return Promise.resolve(bunListener(server));
  }

  drain(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function bunListener(server: BunServer): Listener {
  const host = server.hostname.includes(":") ? `[${server.hostname}]` : server.hostname;
  return {
    address: `${host}:${server.port}`,
    // Bun.serve speaks HTTP/1.1 only: neither h2c nor ALPN h2 (README "HTTP/2 and gRPC").
    http2: false,
    stop: () => {
      void server.stop(false);
      return Promise.resolve();
    },
    closeAll: () => void server.stop(true),
  };
}

function serveFetch(handler: FetchHandler, address: ListenAddress): Promise<Listener> {
  const server = Bun.serve({
    hostname: address.host || "0.0.0.0",
    port: address.port,
    fetch: (request) => handler(request),
  });
  return Promise.resolve(bunListener(server));
}

/** The Bun runtime adapter. */
export const bunRuntime: Runtime = {
  name: "bun",
  version: Bun.version,
  createProxyServer: (route: Route, options: UpstreamOptions) => new BunProxyServer(route, options),
  // Bun.serve answers HTTP/1.1 only, and its upstream side (fetch, node:http) speaks HTTP/1.1 only.
  http2: false,
  serveFetch,
  fs: nodeFileSystem,
  packFiles: nodePackFiles,
  runCommand,
  openNativeSqlite,
  makeTempDir: (prefix) => mkdtemp(join(tmpdir(), prefix)),
  decompress,
  base64,
  // JavaScriptCore paces its collections by the heap, not by the big strings and buffers a writer of 1 MiB records
  // drops: measured peak RSS 1.5 GB at 1 MiB GET, c32. `Bun.gc(false)` asks for a collection without blocking.
  collectGarbageHint: () => Bun.gc(true),
  sha256: NodeSha256,
  ...processOperations,
};
