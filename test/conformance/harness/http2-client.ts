/** A node:http2 client for the HTTP/2 cases: one session, many streams. */
import { Buffer } from "node:buffer";
import http2 from "node:http2";

/** An HTTP/2 response, read whole. */
export interface Http2Response {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders;
}

/** Opens a session to `origin` (`http:` is h2c with prior knowledge; `https:` accepts any certificate). */
export function openSession(origin: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(origin, { rejectUnauthorized: false });
    session.once("connect", () => {
      session.off("error", reject);
      resolve(session);
    });
    session.once("error", reject);
  });
}

/** Sends one request on `session` and reads its response, trailers included. */
export function h2Request(
  session: http2.ClientHttp2Session,
  path: string,
  options: {
    method?: string;
    headers?: http2.OutgoingHttpHeaders;
    body?: Uint8Array | string;
    /** Sent after the body (which must be given). */
    trailers?: http2.OutgoingHttpHeaders;
    timeoutMs?: number;
  } = {},
): Promise<Http2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(
      { ":method": options.method ?? "GET", ":path": path, ...options.headers },
      { endStream: options.body === undefined, waitForTrailers: options.trailers !== undefined },
    );
    if (options.trailers !== undefined) stream.once("wantTrailers", () => stream.sendTrailers(options.trailers!));
    const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), options.timeoutMs ?? 15_000);
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (head) => {
      status = Number(head[":status"]);
      headers = head;
    });
    stream.on("trailers", (fields) => (trailers = fields));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      clearTimeout(timer);
      resolve({ status, headers, body: Buffer.concat(chunks), trailers });
    });
    stream.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    if (options.body !== undefined) stream.end(options.body);
  });
}

/** Closes a session and waits for it. */
export function closeSession(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.closed || session.destroyed) return resolve();
    session.close(() => resolve());
  });
}
