/**
 * The 5-byte prefix of a length-prefixed gRPC message (a compressed flag,
 * then a big-endian length), filled as network chunks cut it. Shared by the
 * capture's framer and the hooks' rewriter, which both read a call's stream.
 */

/** Bytes in a message prefix. */
export const GRPC_PREFIX_SIZE = 5;

export class GrpcPrefix {
  /** The prefix bytes read so far (all of them once `complete`). */
  readonly bytes = new Uint8Array(GRPC_PREFIX_SIZE);
  readonly #view = new DataView(this.bytes.buffer);
  #fill = 0;

  /** Takes what the prefix still lacks from `chunk` at `at`; returns how many bytes it took. */
  take(chunk: Uint8Array, at: number): number {
    const take = Math.min(GRPC_PREFIX_SIZE - this.#fill, chunk.byteLength - at);
    this.bytes.set(chunk.subarray(at, at + take), this.#fill);
    this.#fill += take;
    return take;
  }

  /** Bytes of the prefix read so far. */
  get filled(): number {
    return this.#fill;
  }

  get complete(): boolean {
    return this.#fill === GRPC_PREFIX_SIZE;
  }

  /** The message's compressed flag (once complete). */
  get compressed(): boolean {
    return (this.bytes[0]! & 1) === 1;
  }

  /** The message's length (once complete). */
  get size(): number {
    return this.#view.getUint32(1);
  }

  /** The next message starts: its prefix is read afresh. */
  reset(): void {
    this.#fill = 0;
  }
}
