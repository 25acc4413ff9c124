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

let include = [];
let exclude = [];
/** Upper-case method names, or null for any method. */
let methods = null;
/** Exact status codes, classes (1-5) and whether records without a response are kept; null when unset. */
let status = null;

function compile(list, field) {
  return (list ?? []).map((source, i) => {
    try {
      return new RegExp(source);
    } catch (error) {
      throw new Error(`${field}[${i}]: invalid regular expression: ${error.message}`);
    }
  });
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
  if (include.length > 0 || exclude.length > 0 || methods !== null) hooks.push("onRequest");
  if (status !== null) hooks.push("onCapture");
  return { hooks };
}

export function onRequest(req) {
  if (methods !== null && !methods.has(req.method.toUpperCase())) return { capture: false };
  const path = req.path;
  if (include.length > 0 && !include.some((re) => re.test(path))) return { capture: false };
  if (exclude.some((re) => re.test(path))) return { capture: false };
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
