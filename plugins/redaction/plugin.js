/**
 * redaction: scrubs captured records before they reach any sink. It works on
 * the capture only (`onCapture`), so the upstream and the client see the real
 * traffic while JSONL, SQLite and S3 see redacted data. Fails closed by
 * default: a record the plugin could not redact is dropped, never written.
 *
 * The work runs on the host: `setup` turns the config into a scrubber
 * (`host.record.scrubber`) made of tapline's built-in patterns
 * (`host.patterns.builtin`: the expressions and their checks, such as Luhn
 * sums for card numbers, are in src/plugins/patterns/builtin-patterns.ts) and
 * the custom ones (`host.patterns.compile`, a linear-time engine, so no
 * pattern can stall the proxy); `onCapture` applies it to the record, which
 * never crosses into the sandbox (`reads: []`). In QuickJS the same pass cost
 * ~100 µs per record; on the host it costs a few.
 */

const TARGETS = ["headers", "query", "request.body", "response.body", "sse", "ws", "grpc"];

const DEFAULT_HEADERS = ["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"];

/** Built-in patterns, in the order they win when several match at the same place. */
const PATTERN_NAMES = ["jwt", "bearer", "email", "credit_card", "ssn", "ipv4", "phone"];

export const manifest = {
  name: "redaction",
  version: "1.0.0",
  description:
    "Redacts secrets and personal data from captured records (headers, trailers, query strings, bodies, SSE, WebSocket, gRPC JSON)",
  hooks: ["onCapture", "onCaptureBatch"],
  config_schema: {
    type: "object",
    additionalProperties: false,
    properties: {
      headers: {
        description: "Header names (case-insensitive) whose values become [REDACTED]; default: " +
          DEFAULT_HEADERS.join(", "),
        type: "array",
        uniqueItems: true,
        items: { type: "string", pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
      },
      patterns: {
        description: "Built-in patterns whose matches become [REDACTED:<name>]; default all",
        type: "array",
        uniqueItems: true,
        items: { enum: PATTERN_NAMES },
      },
      custom: {
        description: "Extra regular expressions, applied after the built-in patterns",
        type: "array",
        items: {
          type: "object",
          additionalProperties: false,
          required: ["name", "pattern"],
          properties: {
            name: { description: "Shown in [REDACTED:<name>]", type: "string", pattern: "^[A-Za-z0-9_.-]+$" },
            pattern: { description: "Regular expression source, without slashes", type: "string", minLength: 1 },
            flags: { description: "Regular expression flags among i, m, s, u", type: "string", pattern: "^[imsu]*$" },
            replacement: {
              description: "Replacement text ($1 etc. refer to groups); default [REDACTED:<name>]",
              type: "string",
            },
          },
        },
      },
      in: {
        description: "Where patterns apply; default all. Headers listed in `headers` are redacted whatever this says",
        type: "array",
        uniqueItems: true,
        items: { enum: TARGETS },
      },
    },
  },
  fail: "closed",
};

/** The scrubber this instance applies (host.record), or null when the config asks for nothing. */
let scrubber = null;

/** Builds the scrubber once, and asks for onCapture only when something is configured. */
export function setup(config) {
  const c = config ?? {};
  const headers = (c.headers ?? DEFAULT_HEADERS).map((h) => String(h).toLowerCase());
  const where = c.in ?? TARGETS;
  const names = PATTERN_NAMES.filter((name) => (c.patterns ?? PATTERN_NAMES).includes(name));
  const custom = (c.custom ?? []).map((rule, i) => {
    let patterns;
    try {
      patterns = host.patterns.compile([{ source: rule.pattern, flags: rule.flags ?? "" }]);
    } catch (error) {
      throw new Error(`custom[${i}].pattern: ${String(error.message).replace(/^patterns\[\d+\]: /, "")}`);
    }
    return { patterns, replacement: rule.replacement ?? `[REDACTED:${rule.name}]` };
  });
  const hasPatterns = names.length > 0 || custom.length > 0;
  if (headers.length === 0 && !(hasPatterns && where.length > 0)) {
    scrubber = null;
    return { hooks: [] };
  }
  scrubber = host.record.scrubber({
    headers,
    header_value: "[REDACTED]",
    builtin: names.length > 0 ? host.patterns.builtin(names) : null,
    template: "[REDACTED:{pattern}]",
    custom,
    in: where,
  });
  // The records stay on the host: nothing of them needs to cross, and a
  // whole batch is scrubbed in one call.
  return { hooks: ["onCaptureBatch"], reads: [] };
}

/** Scrubs the record on the host; what changed is what gets written. */
export function onCapture() {
  host.record.scrub(scrubber);
}

/** Scrubs every record of the batch on the host (one crossing for all of them). */
export function onCaptureBatch() {
  host.record.scrub(scrubber);
}
