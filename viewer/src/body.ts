/**
 * How a captured body is shown: JSON (pretty, foldable), text, or binary
 * (size, hex preview, download). Captured bodies are attacker-controlled:
 * everything here produces data for text nodes, never markup.
 */
import type { CapturedBody, HeaderMap } from "../../src/shared/record.ts";
import { base64Bytes } from "../../src/traces/base64-bytes.ts";

export { base64Bytes };

/** What to show for one body. */
export interface BodyView {
  kind: "empty" | "json" | "text" | "binary";
  /** The text shown (JSON as parsed data in `json`). */
  text: string;
  json?: unknown;
  /** The bytes, for binary bodies (hex preview and download). */
  bytes?: Uint8Array<ArrayBuffer>;
  /** True when this is the decoded form of a gzip/deflate/br body. */
  decoded: boolean;
  /** True when the capture stopped before the end of the body. */
  truncated: boolean;
  /** Size on the wire, in bytes. */
  wireSize: number;
}

/** The first header value of `name`, any case. */
export function headerValue(headers: HeaderMap | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, values] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return values[0];
  }
  return undefined;
}

/** The view of a request's or response's body, preferring its decoded form. */
export function bodyView(part: CapturedBody, headers: HeaderMap | undefined): BodyView {
  const decoded = part.body_decoded !== undefined;
  const text = decoded ? part.body_decoded! : part.body;
  const base64 = decoded ? part.body_decoded_base64 === true : part.body_base64 === true;
  const truncated = decoded ? part.body_decoded_truncated === true : part.body_truncated === true;
  const common = { decoded, truncated, wireSize: part.body_size };
  if (text === undefined || text === "") return { kind: "empty", text: "", ...common };
  if (base64) return { kind: "binary", text: "", bytes: base64Bytes(text), ...common };
  const type = headerValue(headers, "content-type") ?? "";
  const looksJson = /[/+]json\b/i.test(type) || /^\s*[[{]/.test(text);
  if (looksJson && !truncated) {
    try {
      return { kind: "json", text, json: JSON.parse(text), ...common };
    } catch {
      // Not JSON after all: shown as text.
    }
  }
  return { kind: "text", text, ...common };
}

/** A hex dump of the first `limit` bytes: offset, 16 bytes, their printable ASCII. */
export function hexPreview(bytes: Uint8Array, limit = 256): string {
  const lines: string[] = [];
  const end = Math.min(bytes.length, limit);
  for (let offset = 0; offset < end; offset += 16) {
    const row = bytes.subarray(offset, Math.min(offset + 16, end));
    const hex = [...row].map((byte) => byte.toString(16).padStart(2, "0")).join(" ");
    const ascii = [...row].map((byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : ".")).join("");
    lines.push(`${offset.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > end) lines.push(`… ${bytes.length - end} more bytes`);
  return lines.join("\n");
}

/** Offers `data` as a file download (through a blob URL, no navigation). */
export function download(data: BlobPart, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
