/**
 * A socket whose first bytes were already read, as a Duplex that yields them
 * again. An h2c connection is recognised by reading its preface, and Node's
 * http2 session reads a net.Socket's handle directly, past anything unshifted
 * back onto it; a Duplex is read through its stream interface instead.
 */
import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";
import type { Socket } from "node:net";

/** `socket` read from the start again: `first`, then whatever the socket receives next. */
export class PrefacedSocket extends Duplex {
  readonly #socket: Socket;

  constructor(socket: Socket, first: Uint8Array) {
    super({ allowHalfOpen: false });
    this.#socket = socket;
    this.push(first);
    socket.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.on("end", () => this.push(null));
    socket.on("error", (error) => this.destroy(error));
    socket.on("close", () => this.destroy());
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#socket.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket.destroy(error ?? undefined);
    callback(error);
  }
}
