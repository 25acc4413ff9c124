/**
 * Whole-record scrubbing on the host: `host.record.scrub(id)` from a plugin's
 * `onCapture` rewrites the record being captured without it crossing into
 * QuickJS. A redaction pass touches every header value and every text field
 * of a record; in QuickJS that is ~100 µs per record (every value parsed,
 * scanned, built and serialized back at ~0.2 µs per JSON value), on the host
 * a few µs. The plugin decides what to scrub (its config, `setup`) and when
 * (its hook); the host runs the loop.
 */
import { grpcPercentEncoded, percentDecoded } from "../shared/percent-decode.ts";
import type { BuiltinSet } from "./patterns/builtin-patterns.ts";
import type { PatternSet } from "./patterns/pattern-set.ts";

/** Where a scrubber applies (the bundled redaction's `in:`). */
export const SCRUB_TARGETS = ["headers", "query", "request.body", "response.body", "sse", "ws", "grpc"] as const;
export type ScrubTarget = typeof SCRUB_TARGETS[number];

/** What `host.record.scrubber(spec)` is given, with set ids resolved. */
export interface ScrubberSpec {
  /** Header names (any case) whose every value becomes `headerValue`. */
  headers: readonly string[];
  headerValue: string;
  /** Built-in patterns, replaced by `template` (`{pattern}` is the name) when their checks pass. */
  builtin: BuiltinSet | undefined;
  template: string;
  /** Further sets, each replaced with its own replacement (`$1` etc.). */
  custom: readonly { set: PatternSet; replacement: string }[];
  in: ReadonlySet<ScrubTarget>;
}

type Plain = Record<string, unknown>;

/** Scrubs records as a spec says; copy-on-write, so the original record is never changed. */
export class RecordScrubber {
  readonly #spec: ScrubberSpec;
  readonly #names: ReadonlySet<string>;
  readonly #patterns: boolean;

  constructor(spec: ScrubberSpec) {
    this.#spec = spec;
    this.#names = new Set(spec.headers.map((name) => name.toLowerCase()));
    this.#patterns = spec.builtin !== undefined || spec.custom.length > 0;
  }

  /** The scrubbed record, or undefined when nothing changed. */
  scrub(record: Plain): Plain | undefined {
    const where = this.#spec.in;
    if (record.type === "http") return this.#http(record);
    if (!this.#patterns) return undefined;
    if (record.type === "websocket_frame" && where.has("ws")) {
      const changes: Plain = {};
      if (!record.payload_base64) this.#field(record, "payload", changes);
      this.#field(record, "close_reason", changes);
      return Object.keys(changes).length > 0 ? { ...record, ...changes } : undefined;
    }
    if (record.type === "grpc_message" && where.has("grpc")) return this.#grpcMessage(record);
    if (record.type === "sse_event" && where.has("sse")) {
      const changes: Plain = {};
      this.#field(record, "data", changes);
      return Object.keys(changes).length > 0 ? { ...record, ...changes } : undefined;
    }
    return undefined;
  }

  /** A text with every pattern applied (the same string when none matched). */
  text(text: string): string {
    let out = text;
    if (this.#spec.builtin) out = this.#spec.builtin.redact(out, this.#spec.template);
    for (const { set, replacement } of this.#spec.custom) out = set.replaceAll(out, replacement);
    return out;
  }

  #http(record: Plain): Plain | undefined {
    const where = this.#spec.in;
    const patterns = this.#patterns;
    // A gRPC call's bodies are its messages' bytes, which no pattern can read: with `grpc`, they are not kept.
    const grpcCall = patterns && where.has("grpc") && record.grpc !== undefined;
    let out: Plain | undefined;
    for (const side of ["request", "response"] as const) {
      const part = record[side];
      if (typeof part !== "object" || part === null) continue;
      const source = part as Plain;
      const changes: Plain = {};
      const headers = this.#headers(source.headers, patterns && where.has("headers"), grpcCall);
      if (headers) changes.headers = headers;
      // Trailers are header fields sent after the body (a gRPC call's grpc-message among them).
      const trailers = this.#headers(source.trailers, patterns && where.has("headers"), grpcCall);
      if (trailers) changes.trailers = trailers;
      if (side === "request" && patterns && where.has("query") && typeof source.url === "string") {
        const q = source.url.indexOf("?");
        if (q >= 0 && q < source.url.length - 1) {
          const query = this.text(source.url.slice(q + 1));
          if (query !== source.url.slice(q + 1)) changes.url = source.url.slice(0, q + 1) + query;
        }
      }
      if (patterns && where.has(`${side}.body`)) {
        if (!source.body_base64) this.#field(source, "body", changes);
        if (!source.body_decoded_base64) this.#field(source, "body_decoded", changes);
      }
      let next: Plain | undefined = Object.keys(changes).length > 0 ? { ...source, ...changes } : undefined;
      if (grpcCall && (source.body_size as number) > 0) next = withoutBody(next ?? source);
      if (next) (out ??= { ...record })[side] = next;
    }
    // A gRPC call's summary repeats grpc-message (a header or trailer), percent-decoded.
    const grpc = record.grpc as Plain | undefined;
    if (patterns && where.has("headers") && typeof grpc?.message === "string" && grpc.message !== "") {
      const message = this.text(grpc.message);
      if (message !== grpc.message) (out ??= { ...record }).grpc = { ...grpc, message };
    }
    return out;
  }

  /**
   * The headers with listed values blanked and, when `scan`, the others
   * scrubbed; with `binary`, gRPC's binary `*-bin` fields (base64, which no
   * pattern can read: `grpc-status-details-bin` repeats grpc-message) are
   * blanked too. Undefined when unchanged.
   */
  #headers(headers: unknown, scan: boolean, binary: boolean): Plain | undefined {
    if (typeof headers !== "object" || headers === null) return undefined;
    let out: Plain | undefined;
    for (const [name, values] of Object.entries(headers as Plain)) {
      if (!Array.isArray(values)) continue;
      let next: unknown[] | undefined;
      const lower = name.toLowerCase();
      if (this.#names.has(lower) || (binary && lower.endsWith("-bin"))) {
        next = values.map(() => this.#spec.headerValue);
      } else if (scan) {
        const grpcMessage = lower === "grpc-message";
        const scrubbed = values.map((value) =>
          typeof value !== "string" || value === ""
            ? value
            : grpcMessage
            ? this.#percentEncoded(value)
            : this.text(value)
        );
        if (scrubbed.some((value, i) => value !== values[i])) next = scrubbed;
      }
      if (next) (out ??= { ...(headers as Plain) })[name] = next;
    }
    return out;
  }

  /**
   * A gRPC message decoded with descriptors: every string of its
   * `payload_json` (values and map keys) scrubbed, and the base64 `payload`
   * not kept (`payload_redacted`): its bytes may hold what a pattern found,
   * or fields and `bytes` the JSON shows in no form a pattern can read.
   * Without descriptors there is no text to scan and the payload stays.
   */
  #grpcMessage(record: Plain): Plain | undefined {
    if (record.payload_json === undefined) return undefined;
    return { ...record, payload_json: this.#json(record.payload_json), payload: "", payload_redacted: true };
  }

  /** A JSON value with its strings scrubbed; the same value when nothing changed (copy-on-write). */
  #json(value: unknown): unknown {
    if (typeof value === "string") return value === "" ? value : this.text(value);
    // No depth limit: the JSON is as deep as the decoder managed; a stack overflow fails the plugin, closed.
    if (typeof value !== "object" || value === null) return value;
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      value.forEach((item, i) => {
        const next = this.#json(item);
        if (next !== item) (out ??= [...value])[i] = next;
      });
      return out ?? value;
    }
    let out: Plain | undefined;
    for (const [key, item] of Object.entries(value as Plain)) {
      const next = this.#json(item);
      // Keys are data too: a map<string, …> field keys its entries by them.
      const nextKey = key === "" ? key : this.text(key);
      if (nextKey !== key) {
        out ??= { ...(value as Plain) };
        delete out[key];
        out[nextKey] = next;
      } else if (next !== item) (out ??= { ...(value as Plain) })[key] = next;
    }
    return out ?? value;
  }

  /**
   * A `grpc-message` value is percent-encoded UTF-8 (an address reads
   * `ada%40example.com`): scrubbed as the text it encodes, encoded again.
   */
  #percentEncoded(value: string): string {
    const text = percentDecoded(value);
    const out = this.text(text);
    return out === text ? value : grpcPercentEncoded(out);
  }

  /** Scrubs `source[key]` into `changes` when it is non-empty text that changes. */
  #field(source: Plain, key: string, changes: Plain): void {
    const text = source[key];
    if (typeof text !== "string" || text === "") return;
    const out = this.text(text);
    if (out !== text) changes[key] = out;
  }
}

/** A body part with its captured bytes left out, as `body_redacted` says. */
function withoutBody(part: Plain): Plain {
  const {
    body: _body,
    body_base64: _base64,
    body_decoded: _decoded,
    body_decoded_base64: _decodedBase64,
    body_decoded_truncated: _decodedTruncated,
    ...rest
  } = part;
  return { ...rest, body: "", body_redacted: true };
}
