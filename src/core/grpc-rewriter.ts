/**
 * Rewrites one direction of a gRPC call a message at a time for the
 * onGrpcMessage hooks: the bytes of each length-prefixed message are held
 * until it is whole, so the hooks see one message however the network cut
 * it, and a message no hook changed goes on as its original bytes. A
 * message larger than `limit` is never held: it streams on unchanged and is
 * counted as skipped, so a huge message costs no more memory than before.
 */
import { concatBytes } from "../shared/bytes.ts";
import { GRPC_PREFIX_SIZE, GrpcPrefix } from "../capture/grpc-prefix.ts";

/** One whole message: its compressed flag and its bytes. */
export interface HeldGrpcMessage {
  compressed: boolean;
  payload: Uint8Array;
}

/** Decides what becomes of one whole message: unchanged, replaced, or dropped (null). */
export type GrpcMessageHandler = (message: HeldGrpcMessage) => HeldGrpcMessage | null | undefined;

const EMPTY = new Uint8Array(0);

/**
 * @example
 * const rewriter = new GrpcRewriter(65536, ({ payload }) => payload.length === 0 ? null : undefined);
 * rewriter.push(new Uint8Array([0, 0, 0, 0, 0])); // empty: the message was dropped
 */
export class GrpcRewriter {
  readonly #limit: number;
  readonly #handler: GrpcMessageHandler;
  readonly #onSkipped: () => void;
  readonly #prefix = new GrpcPrefix();
  /** Bytes of the current message still to come. */
  #remaining = 0;
  /** The current message is larger than the limit: its bytes pass as they come. */
  #passing = false;
  #held: Uint8Array[] = [];

  /** @param onSkipped counts a message that passed unseen because it was larger than `limit` */
  constructor(limit: number, handler: GrpcMessageHandler, onSkipped: () => void = () => {}) {
    this.#limit = limit;
    this.#handler = handler;
    this.#onSkipped = onSkipped;
  }

  /** A chunk of the stream, in order; returns the bytes to send now (possibly empty). */
  push(chunk: Uint8Array): Uint8Array {
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < chunk.byteLength) {
      if (!this.#prefix.complete) {
        at += this.#prefix.take(chunk, at);
        if (!this.#prefix.complete) break;
        this.#remaining = this.#prefix.size;
        this.#passing = this.#remaining > this.#limit;
        if (this.#passing) {
          this.#onSkipped();
          out.push(this.#prefix.bytes.slice());
        }
        if (this.#remaining === 0) out.push(this.#complete());
        continue;
      }
      const take = Math.min(this.#remaining, chunk.byteLength - at);
      // Copied when held: the chunk's buffer belongs to the forwarding path and may be reused.
      const part = this.#passing ? chunk.subarray(at, at + take) : chunk.slice(at, at + take);
      (this.#passing ? out : this.#held).push(part);
      this.#remaining -= take;
      at += take;
      if (this.#remaining === 0) out.push(this.#complete());
    }
    return out.length === 1 ? out[0]! : concatBytes(out);
  }

  /** The stream ended: a message cut short goes on as the bytes that came. */
  end(): Uint8Array {
    const rest = this.#passing || this.#prefix.filled === 0
      ? EMPTY
      : concatBytes([this.#prefix.bytes.subarray(0, this.#prefix.filled), ...this.#held]);
    this.#reset();
    return rest;
  }

  /** A message ended: what to send in its place. */
  #complete(): Uint8Array {
    const passing = this.#passing;
    const prefix = this.#prefix.bytes.slice();
    const compressed = this.#prefix.compressed;
    const payload = concatBytes(this.#held);
    this.#reset();
    if (passing) return EMPTY;
    const result = this.#handler({ compressed, payload });
    if (result === null) return EMPTY;
    if (result === undefined) return concatBytes([prefix, payload]);
    const framed = new Uint8Array(GRPC_PREFIX_SIZE + result.payload.byteLength);
    framed[0] = result.compressed ? 1 : 0;
    new DataView(framed.buffer).setUint32(1, result.payload.byteLength);
    framed.set(result.payload, GRPC_PREFIX_SIZE);
    return framed;
  }

  #reset(): void {
    this.#prefix.reset();
    this.#remaining = 0;
    this.#passing = false;
    this.#held = [];
  }
}
