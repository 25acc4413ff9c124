/**
 * HTTP/2 to an upstream with node:http2: one multiplexed session per origin,
 * opened on first use and again after GOAWAY, an error or an idle close.
 *
 * Why not undici's `allowH2`: its HTTP/2 client ends a response when the
 * trailers frame arrives and drops body bytes still buffered behind a paused
 * stream (a slow client: measured, undici 7.30), and its Pool ignores `useH2c`.
 * Here the response ends on the stream's `end`, after every byte was read.
 */
import { Buffer } from "node:buffer";
import http2 from "node:http2";
import tls from "node:tls";
import type { RawHeaders } from "../../shared/raw-headers.ts";
import { fieldList, http2RequestHeaders, http2TrailerFields } from "../../core/http2-headers.ts";
import type { UpstreamHandler, UpstreamRequest } from "./upstream-request.ts";

/** What `auto` learned from ALPN: an upstream that chose HTTP/1.1 is asked again after this long. */
const ALPN_MEMORY_MS = 60_000;
/** An idle session closes after this long, like an idle HTTP/1.1 keep-alive connection. */
const IDLE_CLOSE_MS = 30_000;

/** HTTP/2 sessions to one upstream origin. */
export class Http2Upstream {
  readonly #origin: URL;
  readonly #secure: boolean;
  readonly #rejectUnauthorized: boolean;
  /** `auto` on https: offer h2 and http/1.1 and use whichever the upstream picks. */
  readonly #negotiate: boolean;
  #session: http2.ClientHttp2Session | undefined;
  #connecting: Promise<http2.ClientHttp2Session | undefined> | undefined;
  #http1Until = 0;
  #closed = false;

  constructor(origin: string, options: { rejectUnauthorized: boolean; negotiate: boolean }) {
    this.#origin = new URL(origin);
    this.#secure = this.#origin.protocol === "https:";
    this.#rejectUnauthorized = options.rejectUnauthorized;
    this.#negotiate = options.negotiate && this.#secure;
  }

  /**
   * Sends a request over HTTP/2, or calls `http1` when negotiation settled
   * on HTTP/1.1 (then the caller's HTTP/1.1 client sends it).
   */
  dispatch(request: UpstreamRequest, handler: UpstreamHandler, http1: () => void): void {
    if (this.#negotiate && Date.now() < this.#http1Until) return http1();
    const session = this.#usable(this.#session);
    if (session !== undefined) return this.#send(session, request, handler);
    this.#connecting ??= this.#connect().finally(() => (this.#connecting = undefined));
    this.#connecting.then(
      (opened) => (opened === undefined ? http1() : this.#send(opened, request, handler)),
      (error: Error) => handler.onError(error),
    );
  }

  /** Closes the session: streams in flight finish, new ones go to a new session. */
  close(): Promise<void> {
    this.#closed = true;
    const session = this.#session;
    this.#session = undefined;
    if (session === undefined || session.closed) return Promise.resolve();
    return new Promise((resolve) => session.close(() => resolve()));
  }

  #usable(session: http2.ClientHttp2Session | undefined): http2.ClientHttp2Session | undefined {
    return session !== undefined && !session.closed && !session.destroyed ? session : undefined;
  }

  async #connect(): Promise<http2.ClientHttp2Session | undefined> {
    let socket: tls.TLSSocket | undefined;
    if (this.#negotiate) {
      socket = await this.#tlsConnect();
      if (socket.alpnProtocol !== "h2") {
        socket.destroy();
        this.#http1Until = Date.now() + ALPN_MEMORY_MS;
        return undefined;
      }
    }
    const session = http2.connect(this.#origin, {
      ...(socket === undefined ? {} : { createConnection: () => socket }),
      ...(this.#secure ? { rejectUnauthorized: this.#rejectUnauthorized, servername: this.#servername() } : {}),
      settings: { enablePush: false },
      maxHeaderListPairs: 2000,
    });
    // Errors end the streams on it (each reports its own); the session is only forgotten.
    session.on("error", () => this.#forget(session));
    session.on("goaway", () => this.#forget(session));
    session.on("close", () => this.#forget(session));
    session.setTimeout(IDLE_CLOSE_MS, () => {
      this.#forget(session);
      session.close();
    });
    if (this.#closed) session.close();
    else this.#session = session;
    return session;
  }

  #forget(session: http2.ClientHttp2Session): void {
    if (this.#session === session) this.#session = undefined;
  }

  #servername(): string | undefined {
    const host = this.#origin.hostname;
    // SNI carries names only, never IP literals (RFC 6066 §3).
    return /^[\d.]+$|^\[/.test(host) ? undefined : host;
  }

  #tlsConnect(): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      const servername = this.#servername();
      const socket = tls.connect({
        host: this.#origin.hostname.replace(/^\[|\]$/g, ""),
        port: Number(this.#origin.port || 443),
        ...(servername === undefined ? {} : { servername }),
        ALPNProtocols: ["h2", "http/1.1"],
        rejectUnauthorized: this.#rejectUnauthorized,
      });
      socket.once("secureConnect", () => {
        socket.removeListener("error", reject);
        resolve(socket);
      });
      socket.once("error", reject);
    });
  }

  #send(session: http2.ClientHttp2Session, request: UpstreamRequest, handler: UpstreamHandler): void {
    const headers = http2RequestHeaders(request.method, request.path, this.#secure ? "https" : "http", request.headers);
    headers[":authority"] ??= this.#origin.host;
    let stream: http2.ClientHttp2Stream;
    const withTrailers = request.trailers !== undefined && request.body !== null;
    try {
      stream = session.request(headers, { endStream: request.body === null, waitForTrailers: withTrailers });
    } catch (error) {
      return handler.onError(error as Error);
    }
    if (withTrailers) {
      // Sent even when empty: with waitForTrailers the stream ends only with sendTrailers (an empty END_STREAM frame).
      stream.once("wantTrailers", () => endWithTrailers(stream, http2TrailerFields(request.trailers!())));
    }
    let trailers: RawHeaders | null = null;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      handler.onError(error);
    };
    // The client went away: cancel the stream (RST_STREAM), the session stays.
    handler.onConnect(() => {
      if (settled) return;
      settled = true;
      stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    stream.on("response", (fields) => {
      if (settled) return;
      const status = Number(fields[":status"]);
      // 1xx heads are informational: the final one follows on the same stream.
      if (status < 200) return;
      if (handler.onHeaders(status, fieldList(fields), () => stream.resume(), "") === false) stream.pause();
      stream.on("data", (chunk: Buffer) => {
        if (!settled && handler.onData(chunk) === false) stream.pause();
      });
    });
    stream.on("trailers", (fields) => (trailers = fieldList(fields)));
    stream.on("end", () => {
      if (settled) return;
      settled = true;
      handler.onComplete(trailers);
    });
    stream.on("error", fail);
    stream.on("close", () => {
      if (settled) return;
      const code = stream.rstCode ?? 0;
      fail(new Error(`HTTP/2 stream to the upstream closed before the response was complete (code ${code})`));
    });
    if (request.body !== null) void sendBody(stream, request.body);
  }
}

/** Writes a request body with backpressure; a failing source cancels the stream. */
async function sendBody(stream: http2.ClientHttp2Stream, body: Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
  if (body instanceof Uint8Array) {
    stream.end(body);
    return;
  }
  try {
    for await (const chunk of body) {
      if (stream.destroyed) return;
      if (!stream.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            stream.off("drain", done);
            stream.off("close", done);
            resolve();
          };
          stream.on("drain", done);
          stream.on("close", done);
        });
      }
    }
    if (!stream.destroyed) stream.end();
  } catch {
    if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
  }
}

/**
 * Ends a request stream with the client's trailers. node:http2 refuses some
 * fields before sending anything (a repeated single-value field such as two
 * `content-type` trailers): then the request ends without them, since a
 * stream waiting for its trailers would never end.
 */
function endWithTrailers(stream: http2.ClientHttp2Stream, fields: Record<string, string | string[]>): void {
  if (stream.destroyed) return;
  try {
    stream.sendTrailers(fields);
    return;
  } catch {
    // Refused: fall through to an empty end.
  }
  try {
    stream.sendTrailers({});
  } catch {
    if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  }
}
