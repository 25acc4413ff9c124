/**
 * WebSocket upgrades on Bun.serve. The upstream leg is the `ws` package (as on
 * Node and Deno); the client leg is Bun's own server WebSocket, which always
 * answers pings itself, so the relay drops the upstream's answer to a
 * forwarded ping (`clientPongsItself`) and the client still sees one pong.
 */
import type { Exchange } from "../../core/exchange.ts";
import { headerPairs, headerValue } from "../../shared/raw-headers.ts";
import type { WebSocketEnd, WebSocketRelay } from "../../core/websocket-relay.ts";
import type { UpstreamOptions } from "../types.ts";
import { badGatewayResponse, responseInit } from "./responses.ts";
import {
  connectUpstream,
  extraHandshakeHeaders,
  type Flow,
  relayFrom,
  type UpstreamHandshake,
  wsEnd,
} from "../node-http/websocket-upstream.ts";

/** What a Bun server WebSocket carries from the upgrade to its handlers. */
export interface BunSocketData {
  exchange: Exchange;
  handshake: Extract<UpstreamHandshake, { kind: "accepted" }>;
  relay?: WebSocketRelay;
  /** Legs still open; the relay ends when both are gone. */
  open: number;
  /** Called when the client leg has drained its send buffer. */
  onDrain?: () => void;
}

/** The parts of Bun's ServerWebSocket the relay uses. */
export interface BunServerWebSocket {
  data: BunSocketData;
  readonly readyState: number;
  sendText(data: string): number;
  sendBinary(data: Uint8Array): number;
  ping(data?: Uint8Array): number;
  pong(data?: Uint8Array): number;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/** The upgrade call of a Bun server. */
export interface BunUpgrader {
  upgrade(request: Request, options: { headers: [string, string][]; data: BunSocketData }): boolean;
}

const decoder = new TextDecoder();
const OPEN = 1;

/** Bun's client leg; `source` (the upstream) is paused while Bun reports backpressure. */
function bunEnd(socket: BunServerWebSocket, source: Flow): WebSocketEnd {
  socket.data.onDrain = () => source.resume();
  return {
    send: (data, binary) => {
      if (socket.readyState !== OPEN) return;
      const status = binary
        ? socket.sendBinary(typeof data === "string" ? new TextEncoder().encode(data) : data)
        : socket.sendText(typeof data === "string" ? data : decoder.decode(data));
      // -1: queued behind backpressure; Bun calls `drain` once it is written.
      if (status === -1) source.pause();
    },
    ping: (data) => socket.readyState === OPEN && socket.ping(data),
    pong: (data) => socket.readyState === OPEN && socket.pong(data),
    close: (code, reason, peerDropped) => {
      if (socket.readyState !== OPEN) return;
      // Bun writes 1000 into a close without a code, which would report a
      // failed upstream as a normal closure; a drop is passed on as a drop.
      if (code === undefined && peerDropped) socket.terminate();
      else socket.close(code, reason);
    },
  };
}

function legGone(data: BunSocketData): void {
  if (--data.open === 0) data.relay?.ended();
}

/**
 * Bun adds `content-type: application/octet-stream` to untyped byte bodies
 * but not to streamed ones, and a tap must not add headers.
 */
function untypedSafeBody(body: Uint8Array, headers: string[]): BodyInit {
  if (headerValue(headers, "content-type") !== undefined || body.byteLength === 0) {
    return body as Uint8Array<ArrayBuffer>;
  }
  return new ReadableStream({
    start(controller) {
      controller.enqueue(body);
      controller.close();
    },
  });
}

/** An upgrade request on a Bun server, with its begun exchange. */
export interface BunUpgrade {
  request: Request;
  /** The server that received `request`, which upgrades the client once the upstream accepted. */
  server: BunUpgrader;
  exchange: Exchange;
  upstreamOptions: UpstreamOptions;
}

/**
 * Connects the upstream for an upgrade request and, once it accepted,
 * upgrades the client; returns the response to send instead when the upstream
 * refused or failed (undefined after a successful upgrade).
 */
export async function upgradeToUpstream(
  { request, server, exchange, upstreamOptions }: BunUpgrade,
): Promise<Response | undefined> {
  exchange.requestEnd();
  const handshake = await connectUpstream(exchange, upstreamOptions).handshake;
  if (handshake.kind === "failed") {
    return badGatewayResponse(exchange, handshake.error);
  }
  if (handshake.kind === "refused") {
    const head = exchange.responseHead(handshake.status, handshake.statusText, handshake.headers);
    exchange.responseChunk(handshake.body);
    exchange.finish();
    return new Response(untypedSafeBody(handshake.body, head.headers), responseInit(head));
  }
  const headers = headerPairs(extraHandshakeHeaders(handshake.headers));
  const protocol = handshake.socket.protocol;
  if (protocol) headers.push(["Sec-WebSocket-Protocol", protocol]);
  if (server.upgrade(request, { headers, data: { exchange, handshake, open: 2 } })) return undefined;
  handshake.socket.terminate();
  exchange.finish({ error: new Error("Client WebSocket handshake was invalid") });
  return new Response("Invalid WebSocket handshake\n", { status: 400 });
}

/** Bun.serve `websocket` handlers that feed the client leg into the relay. */
export const bunWebSocketHandlers = {
  // A tap adds no pings of its own, cuts no idle connection, and forwards messages of any size.
  sendPings: false,
  idleTimeout: 0,
  perMessageDeflate: false,
  maxPayloadLength: 2 ** 32 - 1,
  open(socket: BunServerWebSocket): void {
    const data = socket.data;
    const upstream = data.handshake.socket;
    // Bun's server socket cannot pause reading, so only the upstream leg is flow-controlled.
    const relay = data.exchange.acceptWebSocket(data.handshake, {
      client: bunEnd(socket, upstream),
      upstream: wsEnd(upstream, undefined, data.handshake.connection),
      clientPongsItself: true,
    });
    data.relay = relay;
    relayFrom({ socket: upstream, relay, direction: "server_to_client", onGone: () => legGone(data) });
    upstream.resume();
  },
  drain(socket: BunServerWebSocket): void {
    socket.data.onDrain?.();
  },
  message(socket: BunServerWebSocket, message: string | Uint8Array): void {
    socket.data.relay?.message("client_to_server", message, typeof message !== "string");
  },
  ping(socket: BunServerWebSocket, data: Uint8Array): void {
    socket.data.relay?.ping("client_to_server", data);
  },
  pong(socket: BunServerWebSocket, data: Uint8Array): void {
    socket.data.relay?.pong("client_to_server", data);
  },
  close(socket: BunServerWebSocket, code: number, reason: string): void {
    const data = socket.data;
    // 1006 says the connection dropped without a close frame.
    if (code === 1006) data.relay?.dropped("client_to_server");
    else data.relay?.close("client_to_server", code === 1005 ? undefined : code, reason);
    legGone(data);
  },
};
