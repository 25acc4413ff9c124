/** Base64 through node:buffer, native on all three runtimes (Node 20 lacks Uint8Array#toBase64). */
import { Buffer } from "node:buffer";

/** Standard base64 of `bytes`. */
export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
