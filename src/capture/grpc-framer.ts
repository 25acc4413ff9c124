/**
 * Splits one direction of a gRPC call into its length-prefixed messages as
 * the bytes pass (gRPC over HTTP/2: a 1-byte compressed flag, a 4-byte
 * big-endian length, then the message). Chunks may cut anywhere, a prefix
 * included. Of each message at most `keep` bytes are held, so a huge message
 * costs no more memory than a capped body.
 */
import { concatBytes } from "../shared/bytes.ts";
import { GrpcPrefix } from "./grpc-prefix.ts";

/** One whole message as it passed. */
export interface GrpcMessage {
  compressed: boolean;
  /** Length from the prefix: the full size, even when `payload` was cut. */
  size: number;
  /** The first `keep` bytes (all of them when `size <= keep`). */
  payload: Uint8Array;
}

/**
 * @example
 * const framer = new GrpcFramer(65536, (message) => console.log(message.size));
 * framer.push(new Uint8Array([0, 0, 0, 0, 2, 104]));
 * framer.push(new Uint8Array([105])); // logs 2
 */
export class GrpcFramer {
  readonly #keep: number;
  readonly #onMessage: (message: GrpcMessage) => void;
  readonly #prefix = new GrpcPrefix();
  /** Bytes of the current message still to come. */
  #remaining = 0;
  #parts: Uint8Array[] = [];
  #held = 0;

  constructor(keep: number, onMessage: (message: GrpcMessage) => void) {
    this.#keep = keep;
    this.#onMessage = onMessage;
  }

  /** A chunk of the stream, in order. */
  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.byteLength) {
      if (!this.#prefix.complete) {
        at += this.#prefix.take(chunk, at);
        if (!this.#prefix.complete) return;
        this.#remaining = this.#prefix.size;
        if (this.#remaining === 0) this.#emit();
        continue;
      }
      const take = Math.min(this.#remaining, chunk.byteLength - at);
      const room = this.#keep - this.#held;
      if (room > 0) {
        // Copied: the chunk's buffer belongs to the forwarding path and may be reused.
        const kept = chunk.slice(at, at + Math.min(take, room));
        this.#parts.push(kept);
        this.#held += kept.byteLength;
      }
      this.#remaining -= take;
      at += take;
      if (this.#remaining === 0) this.#emit();
    }
  }

  #emit(): void {
    const payload = concatBytes(this.#parts);
    const { compressed, size } = this.#prefix;
    this.#parts = [];
    this.#held = 0;
    this.#prefix.reset();
    this.#onMessage({ compressed, size, payload });
  }
}
