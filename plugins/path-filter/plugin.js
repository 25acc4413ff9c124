/**
 * path-filter: decides which exchanges are captured. Path and method are
 * checked when the request arrives (`{capture: false}` skips the capture, so
 * skipped exchanges cost no tee); the response status is checked on the
 * finished record (`onCapture` returns null to drop it).
 */

export const manifest = {
  name: "path-filter",
  version: "1.0.0",
  description: "Captures only exchanges whose path, method and response status match the configured filters",
  hooks: ["onRequest", "onCapture"],
  config_schema: {
    type: "object",
    additionalProperties: false,
    properties: {
      include: {
        description: "Regular expressions on the path (without query): capture only paths matching at least one",
        type: "array",
        items: { type: "string", minLength: 1 },
      },
      exclude: {
        description: "Regular expressions on the path (without query): never capture paths matching any",
        type: "array",
        items: { type: "string", minLength: 1 },
      },
      methods: {
        description: "Capture only these request methods (case-insensitive), such as GET or POST",
        type: "array",
        items: { type: "string", pattern: "^[A-Za-z]+$" },
      },
      status: {
        description:
          'Keep only http records whose response status matches: a class ("5xx"), an exact code (404), or "error" for records without a response',
        type: "array",
        items: {
          anyOf: [
            { type: "integer", minimum: 100, maximum: 599 },
            { type: "string", pattern: "^([1-5][xX][xX]|[1-5][0-9][0-9]|error)$" },
          ],
        },
      },
    },
  },
  fail: "open",
};

/** {prefixes, set}: literal `^...` prefixes tested here, the other patterns as one host.patterns set (or null). */
let include = null;
let exclude = null;
/** Upper-case method names, or null for any method. */
let methods = null;
/** Exact status codes, classes (1-5) and whether records without a response are kept; null when unset. */
let status = null;

/** `^/api/` and the like: a literal prefix needs no regular expression engine. */
const LITERAL_PREFIX = /^\^([^\\^$.|?*+()[\]{}]*)$/;

/**
 * Compiles a list of path patterns: literal prefixes are kept as strings,
 * the rest run on the host's linear-time engine (`host.patterns`), so a
 * pattern such as `(a+)+$` cannot stall the proxy. Null when the list is empty.
 */
function compile(list, field) {
  if (!list || list.length === 0) return null;
  const prefixes = [];
  const sources = [];
  for (const source of list) {
    const literal = LITERAL_PREFIX.exec(source);
    if (literal) prefixes.push(literal[1]);
    else sources.push(source);
  }
  let set = null;
  if (sources.length > 0) {
    try {
      set = host.patterns.compile(sources);
    } catch (error) {
      // host.patterns numbers the patterns it was given: map back to the config's index.
      const message = String(error.message);
      const at = /^patterns\[(\d+)\]: (.*)$/s.exec(message);
      if (!at) throw new Error(`${field}: ${message}`);
      throw new Error(`${field}[${list.indexOf(sources[Number(at[1])])}]: ${at[2]}`);
    }
  }
  return { prefixes, set };
}

/** Whether a compiled list matches the path. */
function matches(compiled, path) {
  for (const prefix of compiled.prefixes) if (path.startsWith(prefix)) return true;
  return compiled.set !== null && host.patterns.test(path, compiled.set);
}

function parseStatus(list) {
  const codes = new Set();
  const classes = new Set();
  let error = false;
  list.forEach((item, i) => {
    const text = String(item).toLowerCase();
    if (text === "error") error = true;
    else if (/^[1-5]xx$/.test(text)) classes.add(Number(text[0]));
    else if (/^[1-5][0-9][0-9]$/.test(text)) codes.add(Number(text));
    else throw new Error(`status[${i}]: expected a class such as "5xx", a code such as 404, or "error"`);
  });
  return { codes, classes, error };
}

/** Compiles the filters once and asks only for the hooks they need. */
export function setup(config) {
  const c = config ?? {};
  include = compile(c.include, "include");
  exclude = compile(c.exclude, "exclude");
  methods = c.methods && c.methods.length > 0 ? new Set(c.methods.map((m) => String(m).toUpperCase())) : null;
  status = c.status && c.status.length > 0 ? parseStatus(c.status) : null;
  const hooks = [];
  if (include !== null || exclude !== null || methods !== null) hooks.push("onRequest");
  if (status !== null) hooks.push("onCapture");
  return { hooks, reads: ["request.method", "request.path", "response.status", "error"] };
}

export function onRequest(req) {
  if (methods !== null && !methods.has(req.method.toUpperCase())) return { capture: false };
  const path = req.path;
  if (include !== null && !matches(include, path)) return { capture: false };
  if (exclude !== null && matches(exclude, path)) return { capture: false };
  return undefined;
}

export function onCapture(record) {
  if (status === null || record.type !== "http") return undefined;
  const response = record.response;
  if (!response) return status.error ? undefined : null;
  const code = response.status;
  if (status.codes.has(code) || status.classes.has(Math.floor(code / 100))) return undefined;
  if (status.error && record.error) return undefined;
  return null;
}
