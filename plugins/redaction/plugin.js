/**
 * redaction: scrubs captured records before they reach any sink. It works on
 * the capture only (`onCapture`), so the upstream and the client see the real
 * traffic while JSONL, SQLite and S3 see redacted data. Fails closed by
 * default: a record the plugin could not redact is dropped, never written.
 *
 * The patterns run on the host through `host.patterns`, which is far faster
 * than QuickJS's own engine: the built-in ones are tapline's
 * (`host.patterns.builtin`, one compiled set, scanned once per field, header
 * values joined into one scan), custom ones run on the host's linear-time
 * engine, so no pattern can stall the proxy. Checks an expression states
 * badly (Luhn sums, digit counts, octet values, an e-mail's local part) are
 * done here, on each match. Only the record fields the targets need cross
 * into the sandbox (`reads`, see setup).
 */

const TARGETS = ["headers", "query", "request.body", "response.body", "sse", "ws"];

const DEFAULT_HEADERS = ["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"];

/**
 * What each built-in pattern finds (the expressions are tapline's:
 * src/plugins/patterns/builtin-patterns.ts), and the check a match must pass.
 * None matches a line feed, so header values can be joined with "\n" and
 * scanned at once.
 */
const PATTERNS = {
  // header.payload.signature in base64url, the header starting with eyJ ('{"').
  jwt: {},
  // A case-insensitive "Bearer" and an RFC 6750 b64token of at least 8 characters.
  bearer: {},
  // From the @ (or its URL encoding %40); `scan` adds the local part before it.
  email: {},
  // 13-19 digits starting 2-6 (the card networks), single spaces or dashes between.
  credit_card: { check: (m) => luhn(m.replace(/[ -]/g, "")) },
  // ddd-dd-dddd without the never-issued 000, 666, 9xx areas, 00 groups or 0000 serials.
  ssn: {},
  // Four dot-separated octets, not part of a longer dotted run.
  ipv4: { check: (m) => m.split(".").every((octet) => Number(octet) <= 255) },
  // +<country> and groups split by one space, dot or dash; (555) 123-4567; 1-555-123-4567; 555.123.4567.
  phone: {
    check: (m) => {
      const n = countDigits(m);
      return n >= 10 && n <= 15;
    },
  },
};
/** Order in the set: earlier ones win when several match at the same place. */
const PATTERN_NAMES = ["jwt", "bearer", "email", "credit_card", "ssn", "ipv4", "phone"];

/** What each target lets the plugin read (reads:), so nothing else crosses into the sandbox. */
const TARGET_READS = {
  headers: [],
  query: ["request.url"],
  "request.body": ["request.body", "request.body_base64", "request.body_decoded", "request.body_decoded_base64"],
  "response.body": [
    "response.body",
    "response.body_base64",
    "response.body_decoded",
    "response.body_decoded_base64",
  ],
  sse: ["data"],
  ws: ["payload", "payload_base64", "close_reason"],
};

export const manifest = {
  name: "redaction",
  version: "1.0.0",
  description:
    "Redacts secrets and personal data from captured records (headers, query strings, bodies, SSE, WebSocket)",
  hooks: ["onCapture"],
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

/** Lower-case header names to blank out. */
let headerNames = new Set();
/** host.patterns set of the enabled built-in patterns, or null when none is. */
let builtinSet = null;
/** Pattern name of each entry of `builtinSet`. */
let builtinNames = [];
/** Compiled custom patterns: {set, replacement}. */
let custom = [];
let where = new Set();
/** Set by replacers: whether the last `scrub` changed anything. */
let changed = false;

function luhn(digits) {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function countDigits(text) {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/** Characters of an email's local part. */
function isLocal(c) {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 ||
    c === 37 || c === 43 || c === 45;
}

/** Replaces built-in pattern matches that pass their checks; sets `changed` when it replaced something. */
function scan(text) {
  const found = host.patterns.scan(text, builtinSet);
  if (found.length === 0) return text;
  let out = "";
  let last = 0;
  let hits = 0;
  for (let k = 0; k < found.length; k += 3) {
    let start = found[k];
    const end = found[k + 1];
    const name = builtinNames[found[k + 2]];
    const check = PATTERNS[name].check;
    if (check && !check(text.slice(start, end))) continue;
    if (name === "email") {
      const at = start;
      while (start > last && isLocal(text.charCodeAt(start - 1))) start--;
      if (start === at) continue;
    }
    out += text.slice(last, start) + "[REDACTED:" + name + "]";
    last = end;
    hits++;
  }
  if (hits === 0) return text;
  changed = true;
  return out + text.slice(last);
}

/** Redacts pattern matches in text; sets `changed` when it replaced something. */
function scrub(text) {
  let out = text;
  if (builtinSet !== null) out = scan(out);
  for (const rule of custom) {
    const next = host.patterns.replaceAll(out, rule.set, rule.replacement);
    if (next !== out) {
      changed = true;
      out = next;
    }
  }
  return out;
}

const hasPatterns = () => builtinSet !== null || custom.length > 0;

/**
 * Compiles the patterns once, and asks for onCapture only when something is
 * configured and for only the record fields its targets need.
 */
export function setup(config) {
  const c = config ?? {};
  headerNames = new Set((c.headers ?? DEFAULT_HEADERS).map((h) => String(h).toLowerCase()));
  where = new Set(c.in ?? TARGETS);
  builtinNames = PATTERN_NAMES.filter((name) => (c.patterns ?? PATTERN_NAMES).includes(name));
  builtinSet = builtinNames.length > 0 ? host.patterns.builtin(builtinNames) : null;
  custom = (c.custom ?? []).map((rule, i) => {
    let set;
    try {
      set = host.patterns.compile([{ source: rule.pattern, flags: rule.flags ?? "" }]);
    } catch (error) {
      const reason = String(error.message).replace(/^patterns\[\d+\]: /, "");
      throw new Error(`custom[${i}].pattern: ${reason}`);
    }
    return { set, replacement: rule.replacement ?? `[REDACTED:${rule.name}]` };
  });
  const useful = headerNames.size > 0 || (hasPatterns() && where.size > 0);
  if (!useful) return { hooks: [] };
  const reads = new Set();
  if (headerNames.size > 0 || (where.has("headers") && hasPatterns())) {
    reads.add("request.headers");
    reads.add("response.headers");
  }
  if (hasPatterns()) { for (const target of where) for (const field of TARGET_READS[target]) reads.add(field); }
  return { hooks: ["onCapture"], reads: [...reads] };
}

/**
 * Blanks listed headers and, when "headers" is a target, scrubs every other
 * value in one pass over the values joined with "\n".
 */
function redactHeaders(headers) {
  if (!headers) return false;
  let any = false;
  const scan = where.has("headers") && hasPatterns();
  const refs = [];
  const values = [];
  for (const name in headers) {
    const list = headers[name];
    if (!Array.isArray(list)) continue;
    if (headerNames.has(name.toLowerCase())) {
      headers[name] = list.map(() => "[REDACTED]");
      any = true;
    } else if (scan) {
      for (let i = 0; i < list.length; i++) {
        refs.push(list, i);
        values.push(list[i]);
      }
    }
  }
  if (values.length === 0) return any;
  changed = false;
  const joined = values.join("\n");
  const out = scrub(joined);
  if (!changed) return any;
  const parts = out.split("\n");
  if (parts.length === values.length) {
    for (let k = 0; k < parts.length; k++) refs[2 * k][refs[2 * k + 1]] = parts[k];
  } else {
    // A custom pattern matched across values: scrub them one by one.
    for (let k = 0; k < values.length; k++) refs[2 * k][refs[2 * k + 1]] = scrub(values[k]);
  }
  return true;
}

/** Scrubs `obj[key]` when it is non-empty text; returns whether it changed. */
function redactField(obj, key) {
  const text = obj[key];
  if (typeof text !== "string" || text === "") return false;
  changed = false;
  const out = scrub(text);
  if (!changed) return false;
  obj[key] = out;
  return true;
}

function redactBody(part) {
  let any = false;
  if (!part.body_base64) any = redactField(part, "body") || any;
  if (!part.body_decoded_base64) any = redactField(part, "body_decoded") || any;
  return any;
}

function redactHttp(record) {
  const request = record.request;
  const response = record.response;
  let any = false;
  if (request) {
    any = redactHeaders(request.headers) || any;
    if (where.has("query") && hasPatterns() && typeof request.url === "string") {
      const q = request.url.indexOf("?");
      if (q >= 0 && q < request.url.length - 1) {
        const holder = { query: request.url.slice(q + 1) };
        if (redactField(holder, "query")) {
          request.url = request.url.slice(0, q + 1) + holder.query;
          any = true;
        }
      }
    }
    if (where.has("request.body") && hasPatterns()) any = redactBody(request) || any;
  }
  if (response) {
    any = redactHeaders(response.headers) || any;
    if (where.has("response.body") && hasPatterns()) any = redactBody(response) || any;
  }
  return any;
}

export function onCapture(record) {
  let any = false;
  if (record.type === "http") any = redactHttp(record);
  else if (record.type === "websocket_frame") {
    if (where.has("ws") && hasPatterns()) {
      if (!record.payload_base64) any = redactField(record, "payload");
      any = redactField(record, "close_reason") || any;
    }
  } else if (record.type === "sse_event") {
    if (where.has("sse") && hasPatterns()) any = redactField(record, "data");
  }
  return any ? record : undefined;
}
