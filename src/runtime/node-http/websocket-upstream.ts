/**
 * The upstream side of a relayed WebSocket, with the `ws` package on every
 * runtime (Bun runs it too): the handshake to the upstream, and the glue
 * between a `ws` socket and the core's WebSocketRelay.
 */
import type { IncomingMessage } from "node:http";
import WebSocket from "ws";
import { headerValue, type RawHeaders } from "../../shared/raw-headers.ts";
import { concatBytes } from "../../shared/bytes.ts";
import type { Exchange } from "../../core/exchange.ts";
import type { WebSocketEnd, WebSocketRelay } from "../../core/websocket-relay.ts";
import type { FrameDirection } from "../../shared/record.ts";
import type { UpstreamOptions } from "../types.ts";

/** How the upstream answered the upgrade. */
export type UpstreamHandshake =
  | {
    kind: "accepted";
    socket: WebSocket;
    statusText: string;
    /** The upstream's 101 headers as received. */
    headers: RawHeaders;
    /** The connection under the socket, for write batching. */
    connection: Corkable | undefined;
  }
  | { kind: "refused"; status: number; statusText: string; headers: RawHeaders; body: Uint8Array }
  | { kind: "failed"; error: Error };

/** Handshake headers the WebSocket libraries on each leg compute themselves. */
const HANDSHAKE_HEADERS = new Set([
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
  "sec-websocket-accept",
  "upgrade",
  "connection",
]);

/** Whether a request asks for a WebSocket upgrade. */
export function isWebSocketUpgrade(headers: RawHeaders): boolean {
  return headerValue(headers, "upgrade")?.trim().toLowerCase() === "websocket";
}

/** Subprotocols a client offered, in its order. */
export function offeredProtocols(headers: RawHeaders): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() !== "sec-websocket-protocol") continue;
    for (const token of headers[i + 1]!.split(",")) if (token.trim()) out.push(token.trim());
  }
  return out;
}

/** Whether the client offered permessage-deflate. */
export function offersDeflate(headers: RawHeaders): boolean {
  return /permessage-deflate/i.test(headerValue(headers, "sec-websocket-extensions") ?? "");
}

/** Headers of a 101 that the client-side library does not write itself. */
export function extraHandshakeHeaders(headers: RawHeaders): RawHeaders {
  const out: RawHeaders = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!HANDSHAKE_HEADERS.has(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}

function requestHeaderObject(headers: RawHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (HANDSHAKE_HEADERS.has(name.toLowerCase())) continue;
    const previous = out[name];
    // `ws` takes an object, so repeated fields are joined the way HTTP allows (cookies with "; ").
    out[name] = previous === undefined
      ? headers[i + 1]!
      : `${previous}${name.toLowerCase() === "cookie" ? "; " : ", "}${headers[i + 1]}`;
  }
  return out;
}

function rawHeadersOf(message: IncomingMessage): RawHeaders {
  return message.rawHeaders;
}

/**
 * Opens the upstream WebSocket for an exchange and resolves once the upstream
 * accepted, refused or could not be reached. An accepted socket is paused, so
 * no message is lost before the relay is wired.
 */
export function connectUpstream(
  exchange: Exchange,
  options: UpstreamOptions,
): { handshake: Promise<UpstreamHandshake>; abort(): void } {
  const upstream = exchange.route.upstream;
  const scheme = upstream.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${upstream.host}${exchange.upstreamTarget}`;
  const requestHeaders = exchange.request.headers;
  let socket: WebSocket | undefined;
  const handshake = new Promise<UpstreamHandshake>((resolve) => {
    let upgradeResponse: IncomingMessage | undefined;
    try {
      socket = new WebSocket(url, offeredProtocols(requestHeaders), {
        headers: requestHeaderObject(exchange.upstreamHeaders),
        perMessageDeflate: offersDeflate(requestHeaders),
        autoPong: false,
        followRedirects: false,
        rejectUnauthorized: !options.insecureSkipVerify,
        // The tap must not refuse what the client and upstream agree on; 0 = no limit in ws.
        maxPayload: 0,
        skipUTF8Validation: true,
      });
    } catch (error) {
      resolve({ kind: "failed", error: error as Error });
      return;
    }
    const ws = socket;
    ws.on("upgrade", (response: IncomingMessage) => (upgradeResponse = response));
    ws.once("open", () => {
      ws.pause();
      resolve({
        kind: "accepted",
        socket: ws,
        statusText: upgradeResponse?.statusMessage ?? "Switching Protocols",
        headers: upgradeResponse ? rawHeadersOf(upgradeResponse) : [],
        connection: upgradeResponse?.socket ?? undefined,
      });
    });
    ws.on("unexpected-response", (request, response: IncomingMessage) => {
      const chunks: Uint8Array[] = [];
      response.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      response.on("error", (error: Error) => resolve({ kind: "failed", error }));
      response.on("end", () => {
        request.destroy();
        resolve({
          kind: "refused",
          status: response.statusCode ?? 502,
          statusText: response.statusMessage ?? "",
          headers: rawHeadersOf(response),
          body: concatBytes(chunks),
        });
      });
    });
    // After "open" this only keeps a late error from being unhandled; the relay acts on "close".
    ws.on("error", (error: Error) => resolve({ kind: "failed", error }));
  });
  return { handshake, abort: () => socket?.terminate() };
}

/** The reading side of the other leg, paused while this leg cannot keep up. */
export interface Flow {
  pause(): void;
  resume(): void;
}

/**
 * Bytes queued for a slow receiver before the sending leg stops reading: a
 * tap must not buffer without bound when one side reads slower than the other
 * writes. Reading resumes once what was queued at that point is written.
 */
export const HIGH_WATER_BYTES = 8 * 1024 * 1024;

/** A connection whose writes can be held back and sent together. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * A `ws` socket as a relay end; `source` is the other leg, paused while this
 * one lags. Sends made while one read is being relayed (a pipelining peer's
 * chunk holds many messages) go out in one write on `connection`: a write
 * call per message was a third of the relay's CPU time.
 */
export function wsEnd(socket: WebSocket, source?: Flow, connection?: Corkable): WebSocketEnd {
  const open = () => socket.readyState === WebSocket.OPEN;
  let paused = false;
  // Only the send that crosses the mark carries a callback: once it is written,
  // everything queued before it is too. A callback per send cost measurable time.
  const resume = () => {
    paused = false;
    source?.resume();
  };
  // The first send of a turn goes out at once (a closed-loop peer sends one
  // message per read); from the second on, sends wait for the end of the turn.
  let inTurn = false;
  let corked = false;
  const endTurn = () => {
    inTurn = false;
    if (!corked) return;
    corked = false;
    connection!.uncork();
  };
  const batch = () => {
    if (!connection) return;
    if (!inTurn) {
      inTurn = true;
      queueMicrotask(endTurn);
    } else if (!corked) {
      corked = true;
      connection.cork();
    }
  };
  return {
    send: (data, binary) => {
      if (!open()) return;
      batch();
      if (paused || !source || socket.bufferedAmount < HIGH_WATER_BYTES) {
        socket.send(data, { binary });
        return;
      }
      paused = true;
      source.pause();
      socket.send(data, { binary }, resume);
    },
    ping: (data) => open() && socket.ping(data),
    pong: (data) => open() && socket.pong(data),
    close: (code, reason) => {
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
        socket.close(code, reason);
      }
    },
  };
}

/** One leg of a relay as `relayFrom` reads it. */
export interface RelayedLeg {
  socket: WebSocket;
  relay: WebSocketRelay;
  /** Which way this leg's frames travel. */
  direction: FrameDirection;
  /** Called once the socket is closed. */
  onGone: () => void;
}

/**
 * Feeds a `ws` socket's frames into the relay as travelling `direction`, and
 * calls `onGone` once the socket is closed.
 */
export function relayFrom({ socket, relay, direction, onGone }: RelayedLeg) {
  socket.on("message", (data, isBinary) => relay.message(direction, data as Uint8Array, isBinary));
  socket.on("ping", (data) => relay.ping(direction, data));
  socket.on("pong", (data) => relay.pong(direction, data));
  // Errors end in a "close" event (code 1006), which is what the relay acts on.
  socket.on("error", () => {});
  if (socket.readyState === WebSocket.CLOSED) {
    // It went away between the handshake and the wiring (Bun opens the client leg later).
    relay.dropped(direction);
    onGone();
    return;
  }
  socket.once("close", (code, reason) => {
    // 1006 says the connection dropped without a close frame.
    if (code === 1006) relay.dropped(direction);
    else relay.close(direction, code === 1005 ? undefined : code, reason.toString());
    onGone();
  });
}
