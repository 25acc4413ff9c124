/**
 * A real WebSocket and Server-Sent Events upstream for the conformance suite,
 * bound to 127.0.0.1:0: node:http plus the `ws` package with `autoPong: false`,
 * so every ping and pong on the wire is one the test can count. By path:
 *
 * - `/ws/echo` — echoes each message with its type (text or binary), answers a
 *   ping with one pong carrying the same payload, and records everything.
 * - `/ws/refuse` — refuses the upgrade: 401, a text body and `x-refused: yes`.
 * - `/ws/close` — sends the text `bye`, then closes with 4001 and `upstream done`.
 * - `/sse/timed` — event `first`, then 500 ms later event `second`; the time
 *   event 2 was written is recorded (performance.now() of this process).
 * - `/sse/split` — SSE_SPLIT_BYTES written in SSE_SPLIT_CHUNKS, one write every
 *   20 ms: split mid-line, between CR and LF and inside a UTF-8 sequence.
 * - anything else — 404.
 *
 * Every upgrade picks `chat.v2` when the client offers it (else the first
 * offered protocol) and adds `X-Upstream-Ws: yes` to its 101 response.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";

/** The protocol the upstream prefers when offered. */
export const PREFERRED_PROTOCOL = "chat.v2";
/** Header (name as sent, value) the upstream adds to every 101 response. */
export const UPGRADE_HEADER = ["X-Upstream-Ws", "yes"] as const;
/** The `/ws/refuse` answer. */
export const REFUSAL = { status: 401, body: "no entry without a token\n", header: ["x-refused", "yes"] as const };
/** What `/ws/close` sends before closing, and how it closes. */
export const UPSTREAM_CLOSE = { message: "bye", code: 4001, reason: "upstream done" };
/** Gap between the two events of `/sse/timed`. */
export const SSE_TIMED_GAP_MS = 500;

/** One message as either side received it. */
export interface WsMessage {
  data: Buffer;
  binary: boolean;
}

/** Everything the upstream saw on one WebSocket connection. */
export interface WsConnection {
  /** Request target of the upgrade, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  /** The subprotocol the upstream chose ("" when none). */
  protocol: string;
  socket: WebSocket;
  messages: WsMessage[];
  pings: Buffer[];
  pongs: Buffer[];
  /** Set when the connection closed: the code and reason ws reported (1005 no code, 1006 dropped). */
  close?: { code: number; reason: string };
  /** Resolves with `close` once the connection is closed. */
  closed: Promise<{ code: number; reason: string }>;
}

/** An upgrade request the upstream answered without upgrading. */
export interface RefusedUpgrade {
  url: string;
  headers: IncomingHttpHeaders;
}

/** One SSE request as the upstream handled it. */
export interface SseStream {
  url: string;
  headers: IncomingHttpHeaders;
  /** performance.now() when each write was handed to the socket. */
  writeTimes: number[];
  /** True once the response ended. */
  ended: boolean;
}

/** `/sse/split` events as a client must see them (default event name, joined data, id and retry). */
export const SSE_SPLIT_EVENTS: ReadonlyArray<{ event: string; data: string; id?: string; retry?: number }> = [
  { event: "greeting", data: "hello\n world", id: "1", retry: 2500 },
  { event: "message", data: "plain message" },
  { event: "update", data: '{"n":3}', id: "3" },
  { event: "message", data: "héllo ünïcode 🎉" },
];

/** The exact bytes of `/sse/split`: BOM, CRLF line endings, comments, id/retry fields, multi-line data. */
export const SSE_SPLIT_BYTES: Buffer = Buffer.concat([
  Buffer.from([0xef, 0xbb, 0xbf]),
  Buffer.from(
    [
      ": a comment the parser must skip",
      "event: greeting",
      "id: 1",
      "retry: 2500",
      "data: hello",
      // Only the one space after the colon goes: the data keeps " world".
      "data:  world",
      "",
      "data: plain message",
      "",
      ": keep-alive",
      "event: update",
      'data:{"n":3}',
      "id: 3",
      "",
      "data: héllo ünïcode 🎉",
      "",
      "",
    ].join("\r\n"),
    "utf8",
  ),
]);

/**
 * Offsets where `/sse/split` is cut: every 11 bytes, plus right after the first
 * CR (so CR and LF arrive apart) and inside the 4-byte emoji.
 */
function splitOffsets(bytes: Buffer): number[] {
  const cuts = new Set<number>();
  for (let i = 11; i < bytes.length; i += 11) cuts.add(i);
  cuts.add(bytes.indexOf(0x0d) + 1);
  cuts.add(bytes.indexOf(Buffer.from("🎉", "utf8")) + 2);
  cuts.add(1); // inside the BOM
  return [...cuts].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b);
}

/** `/sse/split` as the chunks the upstream writes one by one. */
export const SSE_SPLIT_CHUNKS: Buffer[] = (() => {
  const out: Buffer[] = [];
  let start = 0;
  for (const cut of splitOffsets(SSE_SPLIT_BYTES)) {
    out.push(SSE_SPLIT_BYTES.subarray(start, cut));
    start = cut;
  }
  out.push(SSE_SPLIT_BYTES.subarray(start));
  return out;
})();

/** The exact bytes of `/sse/timed`, as its two writes. */
export const SSE_TIMED_CHUNKS = ["event: tick\ndata: first\nid: t1\n\n", "event: tick\ndata: second\nid: t2\n\n"];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const toBuffer = (data: WebSocket.RawData): Buffer =>
  Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);

export class WsUpstream {
  readonly server: Server;
  readonly wss: WebSocketServer;
  readonly connections: WsConnection[] = [];
  readonly refused: RefusedUpgrade[] = [];
  readonly sse: SseStream[] = [];
  port = 0;
  readonly #sockets = new Set<Socket>();

  constructor() {
    this.server = createServer((req, res) => this.#http(req, res));
    this.server.on("connection", (s: Socket) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
    });
    this.wss = new WebSocketServer({
      noServer: true,
      autoPong: false,
      handleProtocols: (offered) => {
        if (offered.has(PREFERRED_PROTOCOL)) return PREFERRED_PROTOCOL;
        const [first] = offered;
        return first ?? false;
      },
    });
    this.wss.on("headers", (headers) => headers.push(`${UPGRADE_HEADER[0]}: ${UPGRADE_HEADER[1]}`));
    this.server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => this.#upgrade(req, socket, head));
  }

  /** Base URL over ws, e.g. `ws://127.0.0.1:43123`. */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Base URL over http, e.g. `http://127.0.0.1:43123`: what tapline's `upstream=` takes. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** The one WebSocket connection whose upgrade target contains `marker`; waits up to `timeoutMs` for it. */
  async connection(marker: string, timeoutMs = 5_000): Promise<WsConnection> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.connections.filter((c) => c.url.includes(marker));
      if (found.length > 1) throw new Error(`Upstream saw ${found.length} WebSocket connections for "${marker}"`);
      if (found.length === 1) return found[0]!;
      if (Date.now() > deadline) {
        throw new Error(
          `Upstream saw no WebSocket connection for "${marker}" within ${timeoutMs} ms (saw ${
            JSON.stringify(this.connections.map((c) => c.url).slice(-10))
          })`,
        );
      }
      await sleep(20);
    }
  }

  /** The one SSE request whose target contains `marker`. */
  sseStream(marker: string): SseStream {
    const found = this.sse.filter((s) => s.url.includes(marker));
    if (found.length !== 1) throw new Error(`Upstream saw ${found.length} SSE requests for "${marker}", expected 1`);
    return found[0]!;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.terminate();
    this.wss.close();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on("error", () => {});
    const path = new URL(req.url ?? "/", "http://upstream.invalid").pathname;
    if (path === "/ws/refuse") {
      this.refused.push({ url: req.url ?? "", headers: req.headers });
      socket.end(
        `HTTP/1.1 ${REFUSAL.status} Unauthorized\r\n` +
          `Content-Type: text/plain\r\n` +
          `Content-Length: ${Buffer.byteLength(REFUSAL.body)}\r\n` +
          `${REFUSAL.header[0]}: ${REFUSAL.header[1]}\r\n` +
          `Connection: close\r\n\r\n` +
          REFUSAL.body,
      );
      return;
    }
    if (path !== "/ws/echo" && path !== "/ws/close") {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      let resolveClosed!: (c: { code: number; reason: string }) => void;
      const conn: WsConnection = {
        url: req.url ?? "",
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        protocol: ws.protocol,
        socket: ws,
        messages: [],
        pings: [],
        pongs: [],
        closed: new Promise((r) => (resolveClosed = r)),
      };
      this.connections.push(conn);
      ws.on("error", () => {});
      ws.on("message", (data, binary) => {
        const bytes = toBuffer(data);
        conn.messages.push({ data: bytes, binary });
        if (path === "/ws/echo") ws.send(bytes, { binary });
      });
      ws.on("ping", (data) => {
        conn.pings.push(Buffer.from(data));
        ws.pong(data);
      });
      ws.on("pong", (data) => conn.pongs.push(Buffer.from(data)));
      ws.on("close", (code, reason) => {
        conn.close = { code, reason: reason.toString("utf8") };
        resolveClosed(conn.close);
      });
      if (path === "/ws/close") {
        ws.send(UPSTREAM_CLOSE.message, () => ws.close(UPSTREAM_CLOSE.code, UPSTREAM_CLOSE.reason));
      }
    });
  }

  #http(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    res.on("error", () => {});
    const path = new URL(req.url ?? "/", "http://upstream.invalid").pathname;
    if (path !== "/sse/timed" && path !== "/sse/split") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    const stream: SseStream = { url: req.url ?? "", headers: req.headers, writeTimes: [], ended: false };
    this.sse.push(stream);
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
    res.flushHeaders();
    const chunks = path === "/sse/timed" ? SSE_TIMED_CHUNKS.map((c) => Buffer.from(c)) : SSE_SPLIT_CHUNKS;
    const gap = path === "/sse/timed" ? SSE_TIMED_GAP_MS : 20;
    void (async () => {
      for (const [i, chunk] of chunks.entries()) {
        if (i > 0) await sleep(gap);
        if (res.destroyed) return;
        stream.writeTimes.push(performance.now());
        res.write(chunk);
      }
      res.end(() => (stream.ended = true));
    })();
  }
}

/** Start a WebSocket/SSE upstream on 127.0.0.1:0. */
export function startWsUpstream(): Promise<WsUpstream> {
  return new WsUpstream().listen();
}
