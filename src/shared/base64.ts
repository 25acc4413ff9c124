/**
 * Standard base64 on every runtime without `node:buffer` (the core and the
 * plugin host may not import it): `Uint8Array#toBase64` where the runtime has
 * it, else `btoa` over chunks small enough for the call stack.
 */

/** Standard base64 of bytes, chunked so large bodies do not overflow the call stack. */
export function toBase64(bytes: Uint8Array): string {
  const native = (bytes as Uint8Array & { toBase64?: () => string }).toBase64;
  if (native) return native.call(bytes);
  let binary = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + step) as unknown as number[]);
  }
  return btoa(binary);
}

/**
 * The bytes of standard base64 `text`.
 *
 * @throws when `text` is not base64 (`atob`'s InvalidCharacterError).
 */
export function fromBase64(text: string): Uint8Array {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}
