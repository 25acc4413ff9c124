/**
 * text-replace: replaces text in whole request and response bodies, in
 * Server-Sent Events and in WebSocket text messages. Streams are handled one
 * parsed event or message at a time, so a match split across network chunks
 * is still found. Rules apply in order, each to the previous rule's output.
 *
 * Bodies never cross into the sandbox: `setup` builds a host rewriter per
 * rule (`host.text.rewriter`) and the body hooks apply the ones whose
 * content types match, on the host. Regular expressions run on the host's
 * linear-time engine (`host.patterns`), so no pattern can stall the proxy.
 */

const TARGETS = ["request.body", "response.body", "sse", "ws"];

/** The host's default body media types (TEXT_BODY_TYPES in src/plugins/types.ts). */
const TEXT_TYPES = [
  "text/*",
  "application/json",
  "application/*+json",
  "application/xml",
  "application/*+xml",
  "application/x-www-form-urlencoded",
  "application/javascript",
];

export const manifest = {
  name: "text-replace",
  version: "1.0.0",
  description: "Replaces literal text or regular expression matches in bodies, SSE events and WebSocket messages",
  hooks: ["onRequestBody", "onResponseBody", "onSseEvent", "onWsMessage"],
  config_schema: {
    type: "object",
    additionalProperties: false,
    required: ["rules"],
    properties: {
      rules: {
        description: "Replacements, applied in order",
        type: "array",
        items: {
          type: "object",
          additionalProperties: false,
          required: ["match", "replace"],
          properties: {
            match: {
              description:
                'Literal text, or a regular expression written "/source/flags" (always applied globally; $1 etc. work in replace)',
              type: "string",
              minLength: 1,
            },
            replace: {
              description: "Replacement text; for literal matches it is inserted as is",
              type: "string",
            },
            in: {
              description: "Where the rule applies; default all four",
              type: "array",
              minItems: 1,
              uniqueItems: true,
              items: { enum: TARGETS },
            },
            content_types: {
              description:
                'Body media types the rule applies to, such as "application/json", "text/*", "application/*+json" or "*/*"; default text-like types. Ignored for sse and ws',
              type: "array",
              minItems: 1,
              items: { type: "string", pattern: "^[A-Za-z0-9*][A-Za-z0-9!#$&^_.+*-]*/[A-Za-z0-9!#$&^_.+*-]+$" },
            },
          },
        },
      },
    },
  },
  fail: "open",
};

/** Rules per target: {apply(text) -> text, accepts(mediaType) -> boolean}. */
let byTarget = { "request.body": [], "response.body": [], sse: [], ws: [] };

/** "/source/flags" when the text has that shape with valid flag letters, else null. */
function regexParts(match) {
  if (match.length < 2 || match[0] !== "/") return null;
  const end = match.lastIndexOf("/");
  if (end <= 0) return null;
  const flags = match.slice(end + 1);
  if (!/^[dgimsuvy]*$/.test(flags)) return null;
  return { source: match.slice(1, end), flags: flags.includes("g") ? flags : flags + "g" };
}

/**
 * A rule as {apply(text) -> text} for events and messages (which cross into
 * the sandbox) and {rewriter} for bodies (which stay on the host: host.text).
 */
function compileRule(rule, i) {
  const parts = regexParts(rule.match);
  const replace = rule.replace;
  if (parts === null) {
    const literal = rule.match;
    return {
      apply: (text) => text.includes(literal) ? text.split(literal).join(replace) : text,
      rewriter: host.text.rewriter([{ literal, replacement: replace }]),
    };
  }
  // On the host's linear-time engine (host.patterns): no pattern can stall the proxy.
  let set;
  try {
    set = host.patterns.compile([{ source: parts.source, flags: parts.flags.replace(/g/g, "") }]);
  } catch (error) {
    throw new Error(`rules[${i}].match: ${String(error.message).replace(/^patterns\[\d+\]: /, "")}`);
  }
  return {
    apply: (text) => host.patterns.replaceAll(text, set, replace),
    rewriter: host.text.rewriter([{ patterns: set, replacement: replace }]),
  };
}

/** `text/*`, `application/*+json`, `*\/*` or an exact media type, as a test on a lower-case media type. */
function typeMatcher(pattern) {
  const p = pattern.toLowerCase();
  if (p === "*/*") return () => true;
  const [type, sub] = p.split("/");
  if (sub === "*") return (t) => t.startsWith(type + "/");
  if (sub.startsWith("*")) {
    const suffix = sub.slice(1);
    return (t) => t.startsWith(type + "/") && t.endsWith(suffix);
  }
  return (t) => t === p;
}

/** Sets up the rules and asks only for the hooks and body types they use. */
export function setup(config) {
  const rules = (config ?? {}).rules ?? [];
  byTarget = { "request.body": [], "response.body": [], sse: [], ws: [] };
  const bodyTypes = new Set();
  rules.forEach((rule, i) => {
    const { apply, rewriter } = compileRule(rule, i);
    const types = rule.content_types ?? TEXT_TYPES;
    const matchers = types.map(typeMatcher);
    const accepts = (mediaType) => matchers.some((m) => m(mediaType));
    for (const target of rule.in ?? TARGETS) {
      byTarget[target].push({ apply, rewriter, accepts });
      if (target === "request.body" || target === "response.body") types.forEach((t) => bodyTypes.add(t.toLowerCase()));
    }
  });
  const hooks = [];
  if (byTarget["request.body"].length > 0) hooks.push("onRequestBody");
  if (byTarget["response.body"].length > 0) hooks.push("onResponseBody");
  if (byTarget.sse.length > 0) hooks.push("onSseEvent");
  if (byTarget.ws.length > 0) hooks.push("onWsMessage");
  // Bodies stay on the host (host.text); only the content type is read.
  const result = { hooks, reads: ["request.headers.content-type", "response.headers.content-type"] };
  if (bodyTypes.size > 0) result.body_content_types = [...bodyTypes];
  return result;
}

function mediaType(headers) {
  const value = headers && headers["content-type"];
  if (!value) return "";
  const semi = value.indexOf(";");
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
}

/** Applies rules to text; `type` undefined skips the content type check. Returns undefined when unchanged. */
function run(rules, text, type) {
  if (rules.length === 0 || typeof text !== "string" || text === "") return undefined;
  let out = text;
  for (const rule of rules) {
    if (type === undefined || rule.accepts(type)) out = rule.apply(out);
  }
  return out === text ? undefined : out;
}

/**
 * Applies rules to the body the host holds (it does not cross into the
 * sandbox: see `reads` in setup); what changed is the new body.
 */
function rewrite(rules, type) {
  for (const rule of rules) if (rule.accepts(type)) host.text.rewrite(rule.rewriter);
}

export function onRequestBody(_body, req) {
  rewrite(byTarget["request.body"], mediaType(req && req.headers));
}

export function onResponseBody(_body, res) {
  rewrite(byTarget["response.body"], mediaType(res && res.headers));
}

export function onSseEvent(event) {
  const data = run(byTarget.sse, event.data, undefined);
  return data === undefined ? undefined : { ...event, data };
}

export function onWsMessage(msg) {
  return run(byTarget.ws, msg.data, undefined);
}
