/**
 * SHA-256 and HMAC-SHA-256 through node:crypto in the shape
 * @smithy/signature-v4 takes as its `sha256` constructor (the same on Node,
 * Deno and Bun, which all provide node:crypto natively).
 */
import { Buffer } from "node:buffer";
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import type { Sha256Hash, Sha256Input } from "../../s3/sha256.ts";

function toBuffer(data: Sha256Input, encoding?: "utf8" | "ascii" | "latin1"): Buffer {
  if (typeof data === "string") return Buffer.from(data, encoding ?? "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/**
 * An incremental SHA-256, or HMAC-SHA-256 when constructed with a secret.
 *
 * @example
 * const hash = new NodeSha256();
 * hash.update("abc");
 * const digest = await hash.digest(); // 32 bytes
 */
export class NodeSha256 implements Sha256Hash {
  readonly #hash: Hash | Hmac;

  constructor(secret?: Sha256Input | null) {
    this.#hash = secret === undefined || secret === null
      ? createHash("sha256")
      : createHmac("sha256", toBuffer(secret));
  }

  update(data: Sha256Input, encoding?: "utf8" | "ascii" | "latin1"): void {
    this.#hash.update(toBuffer(data, encoding));
  }

  digest(): Promise<Uint8Array> {
    const digest = this.#hash.digest();
    return Promise.resolve(new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength));
  }
}
