/**
 * WebSocket upgrades on a node:http listener (Node and Deno): the upstream is
 * connected first; only once it accepted does `ws` answer the client, with the
 * upstream's subprotocol and handshake headers. Refusals and failures are
 * written to the client socket as plain HTTP responses.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer } from "ws";
import type { Exchange } from "../../core/exchange.ts";
import type { ResponseHead } from "../../core/hooks.ts";
import type { RawHeaders } from "../../shared/raw-headers.ts";
import type { UpstreamOptions } from "../types.ts";
import { connectUpstream, extraHandshakeHeaders, relayFrom, wsEnd } from "./websocket-upstream.ts";

/** A response written straight to a socket that node:http handed over for an upgrade. */
function writeRawResponse(socket: Duplex, head: ResponseHead, body: Uint8Array): void {
  let text = `HTTP/1.1 ${head.status} ${head.statusText}\r\n`;
  const headers = head.headers;
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i]!.toLowerCase();
    if (lower === "content-length") continue;
    text += `${headers[i]}: ${headers[i + 1]}\r\n`;
  }
  text += `Content-Length: ${body.byteLength}\r\nConnection: close\r\n\r\n`;
  socket.write(text, "latin1");
  socket.end(body);
}

/** What node:http hands over with an "upgrade" event. */
export interface NodeUpgrade {
  request: IncomingMessage;
  /** The client's connection, no longer managed by node:http. */
  socket: Duplex;
  /** Bytes the client sent after the request head. */
  head: Buffer;
}

/** Extra 101 headers per upgrade request, read back in the server's "headers" event. */
const pendingHeaders = new WeakMap<IncomingMessage, RawHeaders>();

function handshakeServer(perMessageDeflate: boolean): WebSocketServer {
  const server = new WebSocketServer({
    noServer: true,
    autoPong: false,
    perMessageDeflate,
    maxPayload: 0,
    skipUTF8Validation: true,
    clientTracking: false,
    // The upstream already chose; the client gets exactly that (or none).
    handleProtocols: (_offered, request) =>
      (request as IncomingMessage & { tapProtocol?: string }).tapProtocol || false,
  });
  server.on("headers", (lines: string[], request: IncomingMessage) => {
    const extra = pendingHeaders.get(request);
    if (!extra) return;
    for (let i = 0; i < extra.length; i += 2) lines.push(`${extra[i]}: ${extra[i + 1]}`);
  });
  return server;
}

/** Relays the WebSocket upgrades of one route's node:http listeners. */
export class NodeWebSocketUpgrades {
  readonly #options: UpstreamOptions;
  /** Client legs with and without permessage-deflate, mirroring what the upstream agreed to. */
  readonly #servers = { deflate: handshakeServer(true), plain: handshakeServer(false) };

  constructor(options: UpstreamOptions) {
    this.#options = options;
  }

  /** Handles an upgrade request whose exchange has begun. */
  async handle(exchange: Exchange, { request, socket, head }: NodeUpgrade): Promise<void> {
    if (exchange.direct) {
      const reply = exchange.sendDirect();
      writeRawResponse(socket, reply.head, reply.body);
      exchange.finish();
      return;
    }
    exchange.requestEnd();
    const upstream = connectUpstream(exchange, this.#options);
    let clientGone = false;
    const onEarlyClose = () => {
      clientGone = true;
      upstream.abort();
    };
    socket.once("close", onEarlyClose);
    socket.on("error", () => {});
    const handshake = await upstream.handshake;
    socket.off("close", onEarlyClose);
    if (clientGone) {
      if (handshake.kind === "accepted") handshake.socket.terminate();
      exchange.finish({ clientGone: true });
      return;
    }
    if (handshake.kind === "failed") {
      const { head: errorHead, body } = exchange.badGateway(handshake.error);
      exchange.responseChunk(body);
      writeRawResponse(socket, errorHead, body);
      exchange.finish();
      return;
    }
    if (handshake.kind === "refused") {
      const refusal = exchange.responseHead(handshake.status, handshake.statusText, handshake.headers);
      exchange.responseChunk(handshake.body);
      writeRawResponse(socket, refusal, handshake.body);
      exchange.finish();
      return;
    }
    const upstreamSocket = handshake.socket;
    (request as IncomingMessage & { tapProtocol?: string }).tapProtocol = upstreamSocket.protocol;
    pendingHeaders.set(request, extraHandshakeHeaders(handshake.headers));
    const deflate = upstreamSocket.extensions.includes("permessage-deflate");
    const server = deflate ? this.#servers.deflate : this.#servers.plain;
    let accepted = false;
    // ws answers an invalid client handshake itself (400) and never calls back.
    socket.once("close", () => {
      if (accepted) return;
      upstreamSocket.terminate();
      exchange.finish({ clientGone: true });
    });
    server.handleUpgrade(request, socket, head, (client: WebSocket) => {
      accepted = true;
      const relay = exchange.acceptWebSocket(handshake, {
        client: wsEnd(client, upstreamSocket, socket),
        upstream: wsEnd(upstreamSocket, client, handshake.connection),
      });
      let open = 2;
      const gone = () => {
        if (--open === 0) relay.ended();
      };
      relayFrom({ socket: client, relay, direction: "client_to_server", onGone: gone });
      relayFrom({ socket: upstreamSocket, relay, direction: "server_to_client", onGone: gone });
      upstreamSocket.resume();
    });
  }
}
