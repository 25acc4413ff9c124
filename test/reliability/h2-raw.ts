/**
 * Raw HTTP/2 for the abuse cases: frames and HPACK literals written by hand,
 * because node:http2's client refuses to send what these tests must send
 * (uppercase names, connection headers, CR/LF in values, floods).
 */
import { Buffer } from "node:buffer";
import { connect, type Socket } from "node:net";

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, CONTINUATION: 9 } as const;
export const FLAG = { END_STREAM: 1, ACK: 1, END_HEADERS: 4 } as const;

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** One frame: 9-byte header (length, type, flags, stream id) and its payload. */
export function frame(type: number, flags: number, stream: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1); `high` is the bits above the prefix in the first byte. */
function hpackInt(value: number, prefixBits: number, high: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [high | value];
  const out = [high | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

function hpackString(text: string | Buffer): number[] {
  const bytes = typeof text === "string" ? Buffer.from(text, "latin1") : text;
  return [...hpackInt(bytes.length, 7, 0), ...bytes];
}

/** A header field as a literal without indexing and a new name (RFC 7541 §6.2.2): sent exactly as given. */
export function literal(name: string, value: string | Buffer): number[] {
  return [0x00, ...hpackString(name), ...hpackString(value)];
}

/** A literal with incremental indexing (§6.2.1): it enters the peer's dynamic table at index 62. */
export function indexedLiteral(name: string, value: string | Buffer): number[] {
  return [0x40, ...hpackString(name), ...hpackString(value)];
}

/** A reference to an entry of the header table (§6.1). */
export function indexed(index: number): number[] {
  return hpackInt(index, 7, 0x80);
}

/** A header block of literal fields, in order. */
export function block(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  return Buffer.from(fields.flatMap(([name, value]) => literal(name, value)));
}

/** A frame read from the server. */
export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

/** A raw connection that has sent the preface and an empty SETTINGS, acknowledging the server's SETTINGS. */
export interface RawSession {
  socket: Socket;
  frames: Frame[];
  /** Resolves when the server closed the connection (or it failed). */
  closed: Promise<void>;
  send(bytes: Uint8Array): void;
  /** The first frame matching `match` within `ms`, or undefined (also when the connection closed first). */
  waitFor(match: (frame: Frame) => boolean, ms: number): Promise<Frame | undefined>;
}

export function rawSession(port: number): Promise<RawSession> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const frames: Frame[] = [];
    const waiters = new Set<() => void>();
    let buffered = Buffer.alloc(0);
    let isClosed = false;
    const wake = () => waiters.forEach((w) => w());
    const closed = new Promise<void>((done) => {
      socket.on("close", () => {
        isClosed = true;
        wake();
        done();
      });
    });
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 9) {
        const length = buffered.readUIntBE(0, 3);
        if (buffered.length < 9 + length) break;
        const parsed: Frame = {
          type: buffered[3]!,
          flags: buffered[4]!,
          stream: buffered.readUInt32BE(5) & 0x7fffffff,
          payload: buffered.subarray(9, 9 + length),
        };
        buffered = buffered.subarray(9 + length);
        frames.push(parsed);
        if (parsed.type === FRAME.SETTINGS && (parsed.flags & FLAG.ACK) === 0 && !socket.destroyed) {
          socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
        }
      }
      wake();
    });
    socket.once("connect", () => {
      socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
      resolve({
        socket,
        frames,
        closed,
        send: (bytes) => {
          if (!socket.destroyed) socket.write(bytes);
        },
        waitFor: (match, ms) =>
          new Promise((done) => {
            const check = () => {
              const found = frames.find(match);
              if (found !== undefined || isClosed) {
                clearTimeout(timer);
                waiters.delete(check);
                done(found);
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              done(frames.find(match));
            }, ms);
            waiters.add(check);
            check();
          }),
      });
    });
    socket.once("error", reject);
  });
}

/** The `:status` of a response HEADERS frame when the server sent it as a static-table index (200, 204, 206, 304, 400, 404, 500), else "headers". */
export function statusOf(headers: Frame): string {
  const first = headers.payload[0];
  const statuses: Record<number, string> = {
    0x88: "200",
    0x89: "204",
    0x8a: "206",
    0x8b: "304",
    0x8c: "400",
    0x8d: "404",
    0x8e: "500",
  };
  return (first !== undefined ? statuses[first] : undefined) ?? "headers";
}
