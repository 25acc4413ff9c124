/**
 * The upstream of the plugin conformance suites, bound to 127.0.0.1:0: plain
 * HTTP, Server-Sent Events and WebSocket on one port, recording everything it
 * receives so tests can assert what a plugin let through. By path:
 *
 * - `/json?say=TEXT` — `{"message": TEXT}` as application/json with a Content-Length.
 * - `/reflect` — the request body back with the request's Content-Type.
 * - `/status/<code>` — that status with a short text body.
 * - `/sse/split-hello` — one event whose data `hello world` is cut in two
 *   network writes (`data: hel`, then `lo world` ~30 ms later).
 * - `/sse/secret` — one event whose data holds SSE_SECRET.
 * - `/v1/chat/completions`, `/v1/messages` — OPENAI_STREAM and ANTHROPIC_STREAM as
 *   text/event-stream, one event per write.
 * - `/ws/echo` (upgrade) — sends WS_GREETING first, then echoes every message.
 * - anything else — a JSON echo `{method, url}`.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { RecordingServer } from "./recording-server.ts";

/** What the upstream saw of one HTTP request. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One WebSocket connection: its upgrade target and the text of every message received. */
export interface SeenSocket {
  url: string;
  headers: IncomingHttpHeaders;
  messages: string[];
}

/** The first message `/ws/echo` sends on every connection. */
export const WS_GREETING = "greeting from upstream: secretword";
/** The data of the one event of `/sse/secret`. */
export const SSE_SECRET = "mail carol@example.net now";

/** An OpenAI-style streamed chat completion with usage, as the events the upstream writes. */
export const OPENAI_STREAM: readonly string[] = [
  `data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n`,
  `data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n`,
  `data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":40,"total_tokens":52}}\n\n`,
  `data: [DONE]\n\n`,
];

/** An Anthropic-style streamed message. */
export const ANTHROPIC_STREAM: readonly string[] = [
  `event: message_start\ndata: {"type":"message_start","message":{"id":"m1","model":"claude-3-5-haiku","usage":{"input_tokens":25,"output_tokens":1}}}\n\n`,
  `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n`,
  `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}\n\n`,
  `event: message_stop\ndata: {"type":"message_stop"}\n\n`,
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PluginUpstream extends RecordingServer<SeenRequest> {
  readonly wss: WebSocketServer;
  readonly sockets: SeenSocket[] = [];
  readonly #conns = new Set<Socket>();

  constructor() {
    super("Upstream");
    this.server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("error", () => {});
      res.on("error", () => {});
      req.on("end", () => {
        const seen: SeenRequest = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks),
        };
        this.requests.push(seen);
        const url = new URL(seen.url, "http://upstream.invalid");
        const path = url.pathname;
        let m: RegExpExecArray | null;
        if (path === "/json") {
          const body = Buffer.from(JSON.stringify({ message: url.searchParams.get("say") ?? "" }));
          res.writeHead(200, { "content-type": "application/json", "content-length": String(body.length) });
          res.end(body);
        } else if (path === "/reflect") {
          res.writeHead(200, {
            "content-type": req.headers["content-type"] ?? "application/octet-stream",
            "content-length": String(seen.body.length),
            "set-cookie": "upstream-session=cookie-from-upstream; Path=/",
          });
          res.end(seen.body);
        } else if ((m = /^\/status\/(\d{3})$/.exec(path))) {
          const body = `status ${m[1]}\n`;
          res.writeHead(Number(m[1]), { "content-type": "text/plain", "content-length": String(body.length) });
          res.end(body);
        } else if (path === "/v1/chat/completions" || path === "/v1/messages") {
          res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
          res.flushHeaders();
          const events = path === "/v1/messages" ? ANTHROPIC_STREAM : OPENAI_STREAM;
          void (async () => {
            for (const event of events) {
              if (res.destroyed) return;
              res.write(event);
              await sleep(5);
            }
            res.end();
          })();
        } else if (path === "/sse/split-hello" || path === "/sse/secret") {
          res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
          res.flushHeaders();
          void (async () => {
            if (path === "/sse/secret") {
              res.write(`data: ${SSE_SECRET}\n\n`);
            } else {
              res.write("data: hel");
              await sleep(30);
              if (res.destroyed) return;
              res.write("lo world\n\n");
            }
            res.end();
          })();
        } else {
          const body = Buffer.from(JSON.stringify({ method: seen.method, url: seen.url }));
          res.writeHead(200, { "content-type": "application/json", "content-length": String(body.length) });
          res.end(body);
        }
      });
    });
    this.server.on("connection", (s: Socket) => {
      this.#conns.add(s);
      s.on("close", () => this.#conns.delete(s));
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on("upgrade", (req, socket: Socket, head) => {
      socket.on("error", () => {});
      if (!(req.url ?? "").startsWith("/ws/echo")) {
        socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        const seen: SeenSocket = { url: req.url ?? "", headers: req.headers, messages: [] };
        this.sockets.push(seen);
        ws.on("error", () => {});
        ws.send(WS_GREETING);
        ws.on("message", (data, binary) => {
          const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
          seen.messages.push(bytes.toString("utf8"));
          ws.send(bytes, { binary });
        });
      });
    });
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    for (const s of this.#conns) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Start a plugin-suite upstream on 127.0.0.1:0. */
export function startPluginUpstream(): Promise<PluginUpstream> {
  return new PluginUpstream().listen();
}

/** Sample values of `name` from Prometheus text, keyed by the sorted label set (`plugin=x`). */
export function metricSamples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)`, "gm");
  for (const m of text.matchAll(re)) {
    const labels = (m[1] ?? "").split(",").filter((s) => s !== "").map((s) => s.replace(/"/g, "")).sort().join(",");
    out.set(labels, Number(m[2]));
  }
  return out;
}

/** A WebSocket client that sends `messages` once open and collects what it receives until `expect` messages arrived. */
export function wsConverse(url: string, messages: string[], expect: number, timeoutMs = 5_000): Promise<string[]> {
  const ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
  return new Promise((resolve, reject) => {
    const got: string[] = [];
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`WebSocket ${url}: got ${got.length} of ${expect} messages within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on("open", () => {
      for (const m of messages) ws.send(m);
    });
    ws.on("message", (data) => {
      got.push((Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)).toString("utf8"));
      if (got.length === expect) ws.close(1000, "done");
    });
    ws.on("close", () => {
      clearTimeout(timer);
      if (got.length < expect) reject(new Error(`WebSocket ${url} closed after ${got.length} of ${expect} messages`));
      else resolve(got);
    });
  });
}
