/**
 * Turns captured bytes into record fields: text when the bytes are valid UTF-8
 * without control bytes (tab, CR and LF allowed), otherwise base64.
 */

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Text of the bytes, or undefined when they are not printable UTF-8. */
export function printableText(bytes: Uint8Array): string | undefined {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) return undefined;
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  return text;
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

/** Body fields in the record: `{body, body_base64?}` for the given bytes. */
export function encodeBody(bytes: Uint8Array, truncated: boolean): { body: string; base64: boolean } {
  const text = printableTextOfPrefix(bytes, truncated);
  if (text !== undefined) return { body: text, base64: false };
  return { body: toBase64(bytes), base64: true };
}
