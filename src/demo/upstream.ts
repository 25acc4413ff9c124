/**
 * The demo upstream of `tapline demo`: a small app with something of each
 * kind tapline captures — JSON routes, a gzip body, a slow answer, binary
 * bytes, error statuses, an OpenAI-compatible chat endpoint that streams
 * Server-Sent Events, and a WebSocket echo. Demo code only: `cli/demo-command`
 * is its one importer. Built on `node:http` and `ws`, which all three runtimes
 * provide (the same pair tapline's WebSocket relay uses).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { WebSocketServer } from "ws";
import { chatCompletion, chatCompletionChunks } from "./chat.ts";

/** The internal name the app puts in its answers; the demo's text-replace plugin rewrites it. */
export const INTERNAL_BASE_URL = "http://internal-app.local";

/** What `GET /` lists. */
export const DEMO_ROUTES: ReadonlyArray<{ method: string; path: string; what: string }> = [
  { method: "GET", path: "/", what: "this list" },
  { method: "GET", path: "/api/users", what: "JSON list (e-mail addresses: redacted in the records)" },
  { method: "GET", path: "/api/users/{id}", what: "one user, 404 for an unknown id" },
  { method: "POST", path: "/api/orders", what: "JSON in, 201 out; 400 for a body that is not JSON" },
  { method: "GET", path: "/gzip", what: "a gzip-compressed JSON body (recorded decoded)" },
  { method: "GET", path: "/slow?ms=800", what: "answers after a delay (at most 5 s)" },
  { method: "GET", path: "/binary", what: "512 bytes of application/octet-stream (recorded as base64)" },
  { method: "GET", path: "/status/{code}", what: "answers with that status" },
  { method: "POST", path: "/v1/chat/completions", what: 'OpenAI-compatible; Server-Sent Events with "stream": true' },
  { method: "GET", path: "/ws", what: "WebSocket echo" },
];

const USERS = [
  { id: 1, name: "Ada Lovelace", email: "ada@example.com", plan: "pro" },
  { id: 2, name: "Grace Hopper", email: "grace@example.com", plan: "team" },
  { id: 3, name: "Alan Turing", email: "alan@example.com", plan: "free" },
];

/** Longest delay `/slow` accepts, so a request cannot hold the demo for long. */
const MAX_SLOW_MS = 5000;
/** Largest request body the demo reads. */
const MAX_BODY = 64 * 1024;

/** A running demo upstream. */
export interface DemoUpstream {
  /** `http://host:port` it listens on. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts the demo upstream on `host:port` (port 0 picks a free one).
 *
 * @example const app = await startDemoUpstream("127.0.0.1", 3000); // app.url === "http://127.0.0.1:3000"
 */
export async function startDemoUpstream(host: string, port: number): Promise<DemoUpstream> {
  const server = createServer((req, res) => void route(req, res).catch(() => res.destroy()));
  const sockets = new WebSocketServer({ noServer: true });
  sockets.on("connection", (socket) => {
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  server.on("upgrade", (req, socket, head) => {
    if (new URL(req.url ?? "/", "http://demo").pathname !== "/ws") {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit("connection", ws, req));
  });
  await listen(server, host, port);
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shownHost}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://demo");
  const path = url.pathname;
  const method = req.method ?? "GET";
  if (method === "GET" && path === "/") {
    return json(res, 200, { name: "tapline demo upstream", base_url: INTERNAL_BASE_URL, routes: DEMO_ROUTES });
  }
  if (method === "GET" && path === "/api/users") {
    return json(res, 200, { users: USERS, next: `${INTERNAL_BASE_URL}/api/users?page=2` });
  }
  const user = /^\/api\/users\/(\d{1,6})$/.exec(path);
  if (method === "GET" && user) {
    const found = USERS.find((u) => u.id === Number(user[1]));
    return found ? json(res, 200, found) : json(res, 404, { error: "not_found", message: `No user ${user[1]}` });
  }
  if (method === "POST" && path === "/api/orders") {
    const body = await readJson(req);
    if (body === undefined) return json(res, 400, { error: "bad_request", message: "The body must be JSON" });
    return json(res, 201, { id: `ord_${Date.now().toString(36)}`, status: "accepted", order: body });
  }
  if (method === "GET" && path === "/gzip") {
    const bytes = gzipSync(JSON.stringify({ compressed: true, users: USERS }));
    res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip", "vary": "accept-encoding" });
    res.end(bytes);
    return;
  }
  if (method === "GET" && path === "/slow") {
    const asked = Number(url.searchParams.get("ms") ?? "800");
    const ms = Number.isFinite(asked) ? Math.min(Math.max(asked, 0), MAX_SLOW_MS) : 800;
    await new Promise((resolve) => setTimeout(resolve, ms));
    return json(res, 200, { waited_ms: ms });
  }
  if (method === "GET" && path === "/binary") {
    const bytes = new Uint8Array(512).map((_, i) => (i * 37 + 11) & 0xff);
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length });
    res.end(bytes);
    return;
  }
  const status = /^\/status\/(\d{3})$/.exec(path);
  if (status) {
    const code = Number(status[1]);
    if (code < 200 || code > 599) return json(res, 400, { error: "bad_request", message: "Status must be 200-599" });
    return json(res, code, { status: code });
  }
  if (method === "POST" && path === "/v1/chat/completions") return chat(req, res);
  return json(res, 404, { error: "not_found", message: `No route ${method} ${path}; GET / lists them` });
}

async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req);
  if (body === undefined || typeof body !== "object" || body === null) {
    return json(res, 400, { error: { message: "The body must be a JSON object", type: "invalid_request_error" } });
  }
  const request = body as { stream?: unknown; messages?: unknown; model?: unknown };
  if (request.stream !== true) return json(res, 200, chatCompletion(request));
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const chunk of chatCompletionChunks(request)) {
    if (res.destroyed) return;
    res.write(`data: ${chunk}\n\n`);
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  res.end("data: [DONE]\n\n");
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value, null, 2) + "\n";
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** The request body parsed as JSON, or undefined when it is not JSON or larger than MAX_BODY. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return undefined;
  }
}
