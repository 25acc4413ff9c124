/**
 * Turns captured bytes into record fields: text when the bytes are valid UTF-8
 * without control bytes (tab, CR and LF allowed), otherwise base64.
 */
import { toBase64 } from "../shared/base64.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Control bytes that make a body binary; tab, LF and CR are allowed in text. */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

/** Text of the bytes, or undefined when they are not printable UTF-8. */
export function printableText(bytes: Uint8Array): string | undefined {
  // Decoding and a regex scan are native passes; a byte loop in JS was the
  // largest cost of capturing large bodies.
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  return CONTROL.test(text) ? undefined : text;
}

/**
 * Text of a capture that may have been cut inside a multi-byte character:
 * up to three trailing bytes of an incomplete sequence are tolerated.
 */
export function printableTextOfPrefix(bytes: Uint8Array, truncated: boolean): string | undefined {
  const text = printableText(bytes);
  if (text !== undefined || !truncated) return text;
  for (let cut = 1; cut <= 3 && cut < bytes.length; cut++) {
    const lead = bytes[bytes.length - cut]!;
    if ((lead & 0xc0) === 0xc0) {
      const prefix = printableText(bytes.subarray(0, bytes.length - cut));
      return prefix === undefined ? undefined : prefix;
    }
    if ((lead & 0xc0) !== 0x80) return undefined;
  }
  return undefined;
}

/** Body fields in the record: `{body, body_base64?}` for the given bytes. */
export function encodeBody(
  bytes: Uint8Array,
  truncated: boolean,
  base64: (bytes: Uint8Array) => string = toBase64,
): { body: string; base64: boolean } {
  const text = printableTextOfPrefix(bytes, truncated);
  if (text !== undefined) return { body: text, base64: false };
  return { body: base64(bytes), base64: true };
}
