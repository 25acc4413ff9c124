/**
 * redaction: scrubs captured records before they reach any sink. It works on
 * the capture only (`onCapture`), so the upstream and the client see the real
 * traffic while JSONL, SQLite and S3 see redacted data. Fails closed by
 * default: a record the plugin could not redact is dropped, never written.
 *
 * QuickJS regular expressions are far slower than V8's, so the built-in
 * patterns run as one combined expression per field (see PATTERNS), header
 * values are scanned in one joined pass, and empty fields are skipped.
 */

const TARGETS = ["headers", "query", "request.body", "response.body", "sse", "ws"];

const DEFAULT_HEADERS = ["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"];

/**
 * Built-in patterns: `first` is the class of their first character, `source`
 * the expression. QuickJS tries an expression at every position and has no
 * first-character optimisation, so each pattern consumes its first character
 * before any lookbehind, and the combined expression starts with a lookahead
 * on the union of first characters: most positions then cost one class test.
 * None matches a line feed, so header values can be joined with "\n" and
 * scanned at once. Checks a regular expression cannot express well (Luhn,
 * octet and digit counts) are done on each match.
 */
const PATTERNS = {
  // header.payload.signature in base64url, the header starting with eyJ ('{"').
  jwt: { first: "e", source: "eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*" },
  // A case-insensitive "Bearer" and an RFC 6750 b64token of at least 8 characters.
  bearer: { first: "Bb", source: "[Bb](?<![A-Za-z0-9][Bb])[Ee][Aa][Rr][Ee][Rr][ \\t]+[A-Za-z0-9._~+/-]{8,}=*" },
  // From the @ (or its URL encoding %40, for query strings); the local part is added by `scan`.
  email: { first: "@%", source: "(?:@|%40)[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}(?![A-Za-z0-9-])" },
  // 13-19 digits starting 2-6 (the card networks), single spaces or dashes between; Luhn-checked.
  credit_card: { first: "2-6", source: "[2-6](?<![\\d-][2-6])(?:[ -]?\\d){12,18}(?!\\d)" },
  // ddd-dd-dddd without the never-issued 000, 666, 9xx areas, 00 groups or 0000 serials.
  ssn: {
    first: "\\d",
    source: "\\d(?<![\\w-]\\d)\\d\\d(?<!000|666|9\\d\\d)-(?!00)\\d\\d-(?!0000)\\d{4}(?![\\w-])",
  },
  // Four dot-separated octets, each at most 255 (checked on the match), not part of a longer dotted run.
  ipv4: { first: "\\d", source: "\\d(?<![\\w.]\\d)\\d{0,2}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}(?!\\.?\\d)" },
  // +<country> and groups split by one space, dot or dash; (555) 123-4567; 1-555-123-4567; 555.123.4567.
  // 10-15 digits (checked on the match).
  phone: {
    first: "+(\\d",
    source: "[+(\\d](?<![\\w+.-][+(\\d])(?:(?<=\\+)\\d+(?:[ .-]?\\(\\d+\\)|[ .-]\\d+)*" +
      "|(?<=\\()\\d{3}\\) ?\\d{3}[.-]\\d{4}" +
      "|(?<=1)[ .-](?:\\(\\d{3}\\) ?|\\d{3}[.-])\\d{3}[.-]\\d{4}" +
      "|(?<=\\d)\\d\\d[.-]\\d{3}[.-]\\d{4})(?![\\w-])",
  },
};
/** Order of alternatives: earlier ones win when several match at the same place. */
const PATTERN_NAMES = ["jwt", "bearer", "email", "credit_card", "ssn", "ipv4", "phone"];

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
/** The combined built-in expression, or null when no pattern is enabled. */
let combined = null;
/** Pattern name of each capture group of `combined`, by group number - 1. */
let groupNames = [];
/** Compiled custom patterns: {re, replacement}. */
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

function octetsValid(text) {
  return text.split(".").every((octet) => Number(octet) <= 255);
}

/** Replaces built-in pattern matches, checking each; sets `changed` when it replaced something. */
function scan(text) {
  const re = combined;
  re.lastIndex = 0;
  let out = "";
  let last = 0;
  let hits = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    const match = m[0];
    let start = m.index;
    let i = 1;
    while (m[i] === undefined) i++;
    const name = groupNames[i - 1];
    if (name === "email") {
      while (start > last && isLocal(text.charCodeAt(start - 1))) start--;
      if (start === m.index) continue;
    } else if (name === "credit_card") {
      if (!luhn(match.replace(/[ -]/g, ""))) continue;
    } else if (name === "phone") {
      const n = countDigits(match);
      if (n < 10 || n > 15) continue;
    } else if (name === "ipv4") {
      if (!octetsValid(match)) continue;
    }
    out += text.slice(last, start) + "[REDACTED:" + name + "]";
    last = m.index + match.length;
    hits++;
  }
  if (hits === 0) return text;
  changed = true;
  return out + text.slice(last);
}

/** Redacts pattern matches in text; sets `changed` when it replaced something. */
function scrub(text) {
  let out = text;
  if (combined !== null) out = scan(out);
  for (const rule of custom) {
    const next = out.replace(rule.re, rule.replacement);
    if (next !== out) {
      changed = true;
      out = next;
    }
  }
  return out;
}

const hasPatterns = () => combined !== null || custom.length > 0;

/** Compiles the patterns once and asks for onCapture only when something is configured. */
export function setup(config) {
  const c = config ?? {};
  headerNames = new Set((c.headers ?? DEFAULT_HEADERS).map((h) => String(h).toLowerCase()));
  where = new Set(c.in ?? TARGETS);
  const enabled = PATTERN_NAMES.filter((name) => (c.patterns ?? PATTERN_NAMES).includes(name));
  groupNames = enabled;
  const firsts = enabled.map((name) => PATTERNS[name].first).join("");
  const alternatives = enabled.map((name) => `(${PATTERNS[name].source})`).join("|");
  combined = enabled.length > 0 ? new RegExp(`(?=[${firsts}])(?:${alternatives})`, "g") : null;
  custom = (c.custom ?? []).map((rule, i) => {
    let re;
    try {
      re = new RegExp(rule.pattern, "g" + (rule.flags ?? "").replace(/g/g, ""));
    } catch (error) {
      throw new Error(`custom[${i}].pattern: invalid regular expression: ${error.message}`);
    }
    return { re, replacement: rule.replacement ?? `[REDACTED:${rule.name}]` };
  });
  const useful = headerNames.size > 0 || (hasPatterns() && where.size > 0);
  return { hooks: useful ? ["onCapture"] : [] };
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
