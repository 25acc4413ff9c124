/**
 * Rewrites an event stream one event at a time for the onSseEvent hooks: the
 * bytes of each event are held until the event is complete (its blank line),
 * so a match split across network chunks is still one string to the hook. An
 * event no hook changed is sent as its original bytes; comments and blocks
 * without data pass through untouched.
 */
import type { SseEventView } from "./hooks.ts";

/** Decides what becomes of one complete event: unchanged, replaced, or dropped (null). */
export type SseEventHandler = (event: SseEventView) => SseEventView | null | undefined;

/** Past this many pending characters the block is passed on raw instead of held. */
const MAX_BLOCK_CHARS = 16 * 1024 * 1024;

const encoder = new TextEncoder();

/** Serializes an event in the canonical form (LF line ends). */
export function serializeSseEvent(event: SseEventView): string {
  let text = event.event !== "message" ? `event: ${event.event.replace(/[\r\n]/g, " ")}\n` : "";
  if (event.id !== undefined) text += `id: ${event.id.replace(/[\r\n\0]/g, "")}\n`;
  if (event.retry !== undefined) text += `retry: ${event.retry}\n`;
  for (const line of event.data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
  return text + "\n";
}

/** Splits an event stream into events as chunks pass and applies a handler to each. */
export class SseRewriter {
  readonly #handler: SseEventHandler;
  readonly #decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  /** Text of the block being read, from its first byte. */
  #buffer = "";
  /** Where scanning for the next line starts in #buffer. */
  #scan = 0;
  #first = true;
  /** The last block went out as its original bytes (so a CRLF's LF split off it goes out too). */
  #rawTail = true;
  /** The previous chunk ended in CR: an LF starting this one completes that line end. */
  #skipLf = false;
  #event: string | undefined;
  #data: string[] = [];
  #id: string | undefined;
  #retry: number | undefined;

  constructor(handler: SseEventHandler) {
    this.#handler = handler;
  }

  /** A chunk from the upstream; returns the bytes to send now (possibly empty). */
  push(chunk: Uint8Array): Uint8Array {
    let text = this.#decoder.decode(chunk, { stream: true });
    let out = "";
    if (this.#first && text.length > 0) {
      this.#first = false;
      if (text.charCodeAt(0) === 0xfeff) {
        out += "\ufeff";
        text = text.slice(1);
      }
    }
    if (this.#skipLf && text.length > 0) {
      this.#skipLf = false;
      if (text.charCodeAt(0) === 10) {
        text = text.slice(1);
        // The LF completes a CRLF: inside the held block it stays part of its
        // raw bytes; after a block sent raw it follows it; after a replaced or
        // dropped block it goes with the original bytes.
        if (this.#buffer.length > 0) {
          this.#buffer += "\n";
          this.#scan = this.#buffer.length;
        } else if (this.#rawTail) {
          out += "\n";
        }
      }
    }
    this.#buffer += text;
    out += this.#drain();
    if (this.#buffer.length > MAX_BLOCK_CHARS) {
      out += this.#buffer;
      this.#rawTail = true;
      this.#reset();
    }
    return encoder.encode(out);
  }

  /** The stream ended: whatever is pending goes out as it came. */
  end(): Uint8Array {
    const rest = this.#buffer + this.#decoder.decode();
    this.#reset();
    return encoder.encode(rest);
  }

  #reset(): void {
    this.#buffer = "";
    this.#scan = 0;
    this.#event = undefined;
    this.#data = [];
    this.#id = undefined;
    this.#retry = undefined;
  }

  /** Reads complete lines; returns the text of every block completed. */
  #drain(): string {
    let out = "";
    const buffer = this.#buffer;
    let position = this.#scan;
    let blockStart = 0;
    while (position < buffer.length) {
      let end = position;
      while (end < buffer.length) {
        const code = buffer.charCodeAt(end);
        if (code === 10 || code === 13) break;
        end++;
      }
      if (end === buffer.length) break;
      let next = end + 1;
      if (buffer.charCodeAt(end) === 13) {
        if (end + 1 === buffer.length) this.#skipLf = true;
        else if (buffer.charCodeAt(end + 1) === 10) next = end + 2;
      }
      const line = buffer.slice(position, end);
      position = next;
      if (line === "") {
        out += this.#dispatch(buffer.slice(blockStart, position));
        blockStart = position;
      } else {
        this.#field(line);
      }
    }
    this.#buffer = buffer.slice(blockStart);
    this.#scan = position - blockStart;
    return out;
  }

  #field(line: string): void {
    const colon = line.indexOf(":");
    if (colon === 0) return;
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (name === "data") this.#data.push(value);
    else if (name === "event") this.#event = value;
    else if (name === "id") this.#id = value;
    else if (name === "retry" && /^\d+$/.test(value)) this.#retry = Number(value);
  }

  /** A complete block: the hook decides what is sent instead of `raw`. */
  #dispatch(raw: string): string {
    const data = this.#data;
    const view: SseEventView = { event: this.#event || "message", data: data.join("\n") };
    if (this.#id !== undefined) view.id = this.#id;
    if (this.#retry !== undefined) view.retry = this.#retry;
    this.#event = undefined;
    this.#data = [];
    this.#id = undefined;
    this.#retry = undefined;
    this.#rawTail = true;
    if (data.length === 0) return raw;
    const result = this.#handler(view);
    if (result === undefined) return raw;
    this.#rawTail = false;
    if (result === null) return "";
    return serializeSseEvent(result);
  }
}
