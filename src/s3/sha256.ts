/**
 * The hashing SigV4 signing needs, supplied by the runtime adapter (each
 * runtime has a native SHA-256).
 */

/** What a SHA-256 accepts: text (UTF-8 unless told) or bytes. */
export type Sha256Input = string | ArrayBuffer | ArrayBufferView;

/** An incremental SHA-256 (HMAC-SHA-256 when made with a secret). */
export interface Sha256Hash {
  update(data: Sha256Input, encoding?: "utf8" | "ascii" | "latin1"): void;
  /** The 32-byte digest; call once. */
  digest(): Promise<Uint8Array>;
}

/**
 * The hash constructor @smithy/signature-v4 takes as `sha256`: `new Sha256()`
 * hashes, `new Sha256(secret)` computes an HMAC.
 */
export type Sha256Constructor = new (secret?: Sha256Input | null) => Sha256Hash;
