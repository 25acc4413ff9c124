/**
 * HTTP/2 next to HTTP/1.1 on one node:http(s) listener. TLS connections choose
 * by ALPN (`h2`, `http/1.1`); plain ones by their first bytes, because an h2c
 * client with prior knowledge opens with the `PRI * HTTP/2.0` preface where an
 * HTTP/1.1 client sends a request line. The HTTP/1.1 path keeps node:http's own
 * connection handling: the sniffed bytes are unshifted and the connection goes
 * to the listener node:http registered, so it costs one read per connection.
 */
import { Buffer } from "node:buffer";
import type http from "node:http";
import http2 from "node:http2";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { PrefacedSocket } from "./prefaced-socket.ts";

/** The first bytes of every h2c connection (RFC 9113 §3.4); no HTTP/1.1 method starts so. */
const PREFACE_START = Buffer.from("PRI ");

/** Longest a new plain connection may stay silent before its protocol is known. */
const FIRST_BYTES_TIMEOUT_MS = 60_000;

/**
 * SETTINGS every session announces: at most 100 streams at once (RFC 9113 §6.5.2
 * recommends no fewer), header lists as large as an HTTP/1.1 head may be.
 */
const SETTINGS: http2.Settings = { maxConcurrentStreams: 100, maxHeaderListSize: 64 * 1024 };

/** Where an HTTP/2 request came from (the session's socket, whatever wraps it). */
export interface ClientAddress {
  ip: string;
  port: number;
}

/** Handles one HTTP/2 request through the compatibility API. */
export type Http2RequestHandler = (
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
  client: ClientAddress,
) => void;

/** The HTTP/2 sessions of one listener. */
export interface Http2Sessions {
  /** Sends GOAWAY on every session: streams in flight finish, new ones are refused. */
  drain(): void;
  /** Ends every session at once. */
  closeAll(): void;
}

/** Options node:http(s) needs at creation for HTTP/2: ALPN offers `h2` first. */
export const HTTP2_TLS_OPTIONS = { ALPNProtocols: ["h2", "http/1.1"] };

/**
 * Makes `server` (created with HTTP2_TLS_OPTIONS when it is https) answer
 * HTTP/2 too, handing each HTTP/2 request to `onRequest`.
 */
export function acceptHttp2(server: http.Server, secure: boolean, onRequest: Http2RequestHandler): Http2Sessions {
  const h2 = http2.createServer({ settings: SETTINGS, maxHeaderListPairs: 2000 });
  const sessions = new Set<http2.ServerHttp2Session>();
  const addresses = new WeakMap<http2.Http2Session, ClientAddress>();
  let arriving: ClientAddress | undefined;
  // The compat API emits 'session' while the connection is handed over: that is when its address is known.
  h2.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (arriving !== undefined) addresses.set(session, arriving);
  });
  h2.on("request", (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    const client = addresses.get(req.stream.session!) ??
      { ip: req.socket.remoteAddress ?? "0.0.0.0", port: req.socket.remotePort ?? 0 };
    onRequest(req, res, client);
  });
  const toHttp2 = (stream: Socket | PrefacedSocket, socket: Socket) => {
    arriving = { ip: socket.remoteAddress ?? "0.0.0.0", port: socket.remotePort ?? 0 };
    h2.emit("connection", stream);
    arriving = undefined;
  };

  // Plain connections whose first bytes have not come yet: no server knows them but this one.
  const sniffing = new Set<Socket>();
  const event = secure ? "secureConnection" : "connection";
  const [http1] = server.listeners(event) as Array<(socket: Socket) => void>;
  if (http1 === undefined) throw new Error(`Accept HTTP/2: the server has no ${event} listener to share`);
  server.removeListener(event, http1);
  server.on(event, (socket: Socket) => {
    if (secure) {
      if ((socket as TLSSocket).alpnProtocol === "h2") toHttp2(socket, socket);
      else http1.call(server, socket);
      return;
    }
    sniffing.add(socket);
    sniffPreface(socket, (isHttp2, first) => {
      sniffing.delete(socket);
      if (isHttp2) return toHttp2(new PrefacedSocket(socket, first), socket);
      socket.unshift(first);
      http1.call(server, socket);
      socket.resume();
    }, () => sniffing.delete(socket));
  });

  return {
    drain: () => {
      for (const session of sessions) session.close();
    },
    closeAll: () => {
      for (const session of sessions) session.destroy();
      for (const socket of sniffing) socket.destroy();
    },
  };
}

/** Reads a plain connection's first bytes, then pauses it and says whether it is h2c. */
function sniffPreface(
  socket: Socket,
  decide: (isHttp2: boolean, first: Buffer) => void,
  forget: () => void,
): void {
  let first: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), FIRST_BYTES_TIMEOUT_MS);
  timer.unref?.();
  const done = () => {
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("close", onClose);
    socket.off("error", ignore);
    socket.pause();
  };
  // Until node:http or http2 takes the socket, an error only ends it.
  const ignore = () => {};
  const onClose = () => {
    done();
    forget();
  };
  const onData = (chunk: Buffer) => {
    first = first.length === 0 ? chunk : Buffer.concat([first, chunk]);
    const known = Math.min(first.length, PREFACE_START.length);
    const matches = first.subarray(0, known).equals(PREFACE_START.subarray(0, known));
    if (matches && first.length < PREFACE_START.length) return;
    done();
    decide(matches, first);
  };
  socket.on("data", onData);
  socket.on("close", onClose);
  socket.on("error", ignore);
}
