/**
 * A gRPC service and client for the gRPC capture cases, written with
 * node:http2 alone (no gRPC library): h2c on 127.0.0.1, messages framed as
 * gRPC frames them (a 1-byte compressed flag, a 4-byte big-endian length, the
 * payload) but opaque, UTF-8 text rather than protobuf. Every answer is
 * `:status 200` with `content-type: application/grpc`, its messages, then the
 * trailers `grpc-status` (and `grpc-message` on an error).
 *
 * Methods, at `/test.Echo/<Method>`:
 * - `Unary`: one message back, `echo:<payload>`.
 * - `ServerStream`: the request is a count N as text; N messages `msg-<i>`, {@link STREAM_GAP_MS} apart.
 * - `ClientStream`: every request message read, then one message with their payloads joined by `,`.
 * - `Bidi`: each request message answered as it arrives with `bidi:<payload>`; ends after the client ends.
 * - `Fail`: no messages; `grpc-status: 5` and `grpc-message: not%20found%20here` (percent-encoded, as gRPC does).
 * - anything else: `grpc-status: 12` (UNIMPLEMENTED).
 */
import { Buffer } from "node:buffer";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";

/** The service's name in every path. */
export const SERVICE = "test.Echo";
/** The gap between two `ServerStream` messages. */
export const STREAM_GAP_MS = 150;

const PREFIX = 5;

/** One gRPC length-prefixed message: the compressed flag, the 4-byte big-endian length, the payload. */
export function grpcFrame(payload: Uint8Array, compressed = false): Buffer {
  const frame = Buffer.alloc(PREFIX + payload.byteLength);
  frame[0] = compressed ? 1 : 0;
  frame.writeUInt32BE(payload.byteLength, 1);
  frame.set(payload, PREFIX);
  return frame;
}

/** The whole messages at the start of `bytes`, and the bytes of an incomplete one after them. */
function splitGrpcFrames(bytes: Buffer): { frames: Array<{ compressed: boolean; payload: Buffer }>; rest: Buffer } {
  const frames: Array<{ compressed: boolean; payload: Buffer }> = [];
  let at = 0;
  while (bytes.length - at >= PREFIX) {
    const size = bytes.readUInt32BE(at + 1);
    if (bytes.length - at - PREFIX < size) break;
    frames.push({ compressed: (bytes[at]! & 1) === 1, payload: bytes.subarray(at + PREFIX, at + PREFIX + size) });
    at += PREFIX + size;
  }
  return { frames, rest: bytes.subarray(at) };
}

/** Every message in `bytes`, which must hold whole messages only. */
export function parseGrpcFrames(bytes: Buffer): Array<{ compressed: boolean; payload: Buffer }> {
  const { frames, rest } = splitGrpcFrames(bytes);
  if (rest.length > 0) throw new Error(`${rest.length} byte(s) after the last whole gRPC message`);
  return frames;
}

/** Feeds chunks as they arrive and hands over each message once it is whole. */
class FrameReader {
  #pending = Buffer.alloc(0);
  readonly #onMessage: (payload: Buffer) => void;

  constructor(onMessage: (payload: Buffer) => void) {
    this.#onMessage = onMessage;
  }

  push(chunk: Buffer): void {
    const { frames, rest } = splitGrpcFrames(Buffer.concat([this.#pending, chunk]));
    // A copy, so the rest does not pin the whole concatenation.
    this.#pending = Buffer.from(rest);
    for (const frame of frames) this.#onMessage(frame.payload);
  }

  /** Bytes of a message that never completed. */
  get leftover(): number {
    return this.#pending.length;
  }
}

export interface GrpcService {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/** Starts the service on 127.0.0.1 with a free port. */
export async function startGrpcService(): Promise<GrpcService> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  const timers = new Set<NodeJS.Timeout>();
  server.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    // A proxy that goes away mid-call is no failure of the service.
    session.on("error", () => {});
  });
  server.on("stream", (stream, headers) => serve(stream, String(headers[":path"] ?? ""), timers));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}

function serve(stream: http2.ServerHttp2Stream, path: string, timers: Set<NodeJS.Timeout>): void {
  stream.on("error", () => {});
  const method = path.startsWith(`/${SERVICE}/`) ? path.slice(SERVICE.length + 2) : "";
  const requests: Buffer[] = [];
  /** The answer's head, once; then `send` writes messages and `finish` ends with the trailers. */
  let answered = false;
  /** Sends the head unless done; false when the caller went away. */
  const answer = (): boolean => {
    if (stream.destroyed || stream.closed) return false;
    if (!answered) stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    answered = true;
    return true;
  };
  const send = (payload: string): void => {
    if (answer()) stream.write(grpcFrame(Buffer.from(payload)));
  };
  const finish = (status: number, message?: string): void => {
    if (!answer()) return;
    stream.once("wantTrailers", () => {
      const trailers: http2.OutgoingHttpHeaders = { "grpc-status": String(status) };
      if (message !== undefined) trailers["grpc-message"] = encodeURIComponent(message);
      stream.sendTrailers(trailers);
    });
    stream.end();
  };
  const reader = new FrameReader((payload) => {
    requests.push(payload);
    if (method === "Bidi") send(`bidi:${payload.toString()}`);
  });
  stream.on("data", (chunk: Buffer) => reader.push(chunk));
  stream.on("end", () => {
    if (reader.leftover > 0) return finish(13, "incomplete request message");
    switch (method) {
      case "Unary":
        if (requests.length !== 1) return finish(13, `Unary takes one message, got ${requests.length}`);
        send(`echo:${requests[0]!.toString()}`);
        return finish(0);
      case "ServerStream": {
        const count = Number(requests[0]?.toString());
        if (!Number.isInteger(count) || count < 0) return finish(3, "the request is a message count");
        const next = (i: number): void => {
          if (stream.destroyed) return;
          if (i === count) return finish(0);
          send(`msg-${i}`);
          const timer = setTimeout(() => {
            timers.delete(timer);
            next(i + 1);
          }, i + 1 === count ? 0 : STREAM_GAP_MS);
          timers.add(timer);
        };
        return next(0);
      }
      case "ClientStream":
        send(requests.map((r) => r.toString()).join(","));
        return finish(0);
      case "Bidi":
        return finish(0);
      case "Fail":
        return finish(5, "not found here");
      default:
        return finish(12, `unknown method ${path}`);
    }
  });
}

/** A finished call as the client saw it. */
export interface GrpcResult {
  /** The HTTP `:status`. */
  status: number;
  headers: http2.IncomingHttpHeaders;
  /** Every response message's payload, in order. */
  messages: Buffer[];
  trailers: http2.IncomingHttpHeaders;
  /** `performance.now()` when the first whole message arrived. */
  firstMessageAt?: number;
  /** `performance.now()` when the stream ended. */
  endedAt: number;
}

export interface GrpcCallOptions {
  /** More request headers (gRPC metadata), e.g. a test marker. */
  headers?: http2.OutgoingHttpHeaders;
  /** The call fails when it has not ended by then. Default 15 s. */
  timeoutMs?: number;
}

/** A call in progress, for streams the test drives message by message (`Bidi`). */
export interface GrpcStream {
  send(payload: Uint8Array | string): void;
  /** Ends the request side (half-close). */
  end(): void;
  /** The next response message not yet taken; rejects when the call ends or fails first. */
  next(): Promise<Buffer>;
  /** The whole call, once the stream ended; rejects when it fails or times out. */
  readonly result: Promise<GrpcResult>;
  /** Closes the session, cancelling the call if it is still open. For finally blocks. */
  close(): Promise<void>;
}

/**
 * Opens a call to `/test.Echo/<method>` on its own h2c session (prior
 * knowledge) to `origin`, with `content-type: application/grpc` and
 * `te: trailers`.
 */
export function openGrpcStream(origin: string, method: string, options: GrpcCallOptions = {}): GrpcStream {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const session = http2.connect(origin);
  const stream = session.request({
    ":method": "POST",
    ":path": `/${SERVICE}/${method}`,
    "content-type": "application/grpc",
    te: "trailers",
    ...options.headers,
  });
  let status = 0;
  let headers: http2.IncomingHttpHeaders = {};
  let trailers: http2.IncomingHttpHeaders = {};
  const messages: Buffer[] = [];
  let firstMessageAt: number | undefined;
  let taken = 0;
  const waiters: Array<{ resolve: (message: Buffer) => void; reject: (error: Error) => void }> = [];
  /** Set once the call ended or failed. */
  let outcome: { ok: true; result: GrpcResult } | { ok: false; error: Error } | undefined;
  let settle!: { resolve: (result: GrpcResult) => void; reject: (error: Error) => void };
  const result = new Promise<GrpcResult>((resolve, reject) => (settle = { resolve, reject }));
  // Awaited by whoever wants it; a test that failed earlier must not add an unhandled rejection.
  result.catch(() => {});

  const pump = (): void => {
    while (waiters.length > 0 && taken < messages.length) waiters.shift()!.resolve(messages[taken++]!);
    if (!outcome) return;
    const error = outcome.ok ? new Error(`${method}: the call ended with no further message`) : outcome.error;
    for (const waiter of waiters.splice(0)) waiter.reject(error);
  };
  const fail = (error: Error): void => {
    if (outcome) return;
    clearTimeout(timer);
    outcome = { ok: false, error };
    settle.reject(error);
    pump();
    session.destroy();
  };
  const timer = setTimeout(() => fail(new Error(`${method}: no end within ${timeoutMs} ms`)), timeoutMs);

  const reader = new FrameReader((payload) => {
    firstMessageAt ??= performance.now();
    messages.push(payload);
    pump();
  });
  session.on("error", (error: Error) => fail(error));
  session.on("close", () => fail(new Error(`${method}: the session closed before the call ended`)));
  stream.on("response", (head) => {
    status = Number(head[":status"]);
    headers = head;
  });
  stream.on("trailers", (fields) => (trailers = fields));
  stream.on("data", (chunk: Buffer) => reader.push(chunk));
  stream.on("error", (error: Error) => fail(error));
  stream.on("end", () => {
    const endedAt = performance.now();
    if (status === 0) return fail(new Error(`${method}: the stream ended without a response`));
    if (reader.leftover > 0) return fail(new Error(`${method}: ${reader.leftover} byte(s) of an incomplete message`));
    if (outcome) return;
    clearTimeout(timer);
    const done: GrpcResult = { status, headers, messages, trailers, endedAt };
    if (firstMessageAt !== undefined) done.firstMessageAt = firstMessageAt;
    outcome = { ok: true, result: done };
    settle.resolve(done);
    pump();
  });
  stream.on("close", () => {
    if (!outcome) fail(new Error(`${method}: the stream closed before it ended (code ${stream.rstCode})`));
  });

  return {
    send: (payload) => {
      stream.write(grpcFrame(typeof payload === "string" ? Buffer.from(payload) : payload));
    },
    end: () => {
      stream.end();
    },
    next: () =>
      new Promise<Buffer>((resolve, reject) => {
        waiters.push({ resolve, reject });
        pump();
      }),
    result,
    close: () =>
      new Promise<void>((resolve) => {
        clearTimeout(timer);
        if (session.destroyed) return resolve();
        session.once("close", () => resolve());
        if (!outcome?.ok) session.destroy();
        else if (!session.closed) session.close();
      }),
  };
}

/**
 * One whole call: sends `requests` (an array, or an async iterable that
 * yields them when it likes), half-closes, and waits for the end. The session
 * is closed either way.
 */
export async function grpcCall(
  origin: string,
  method: string,
  requests: Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>,
  options: GrpcCallOptions = {},
): Promise<GrpcResult> {
  const call = openGrpcStream(origin, method, options);
  try {
    const sending = (async () => {
      for await (const request of requests) call.send(request);
      call.end();
    })();
    sending.catch(() => {});
    const [, result] = await Promise.all([sending, call.result]);
    return result;
  } finally {
    await call.close();
  }
}
