/**
 * block-path: answers requests under configured path prefixes itself, with a
 * JSON error, so they never reach the upstream. The exchange is still
 * captured (with the response tapline sent).
 *
 * A prefix matches whole path segments: "/admin" blocks "/admin" and
 * "/admin/users" but not "/administrators". The path is percent-decoded and
 * normalised ("//", "/./", "/../") before the comparison, so "/%61dmin" and
 * "/public/../admin" are blocked too.
 */

export const manifest = {
  name: "block-path",
  version: "1.0.0",
  description: "Answers requests under the configured path prefixes with a JSON error instead of forwarding them",
  hooks: ["onRequest"],
  config_schema: {
    type: "object",
    additionalProperties: false,
    required: ["prefixes"],
    properties: {
      prefixes: {
        description: 'Path prefixes to block, each starting with "/"',
        type: "array",
        minItems: 1,
        items: { type: "string", pattern: "^/" },
      },
      status: {
        description: "Status of the answer; default 403",
        type: "integer",
        minimum: 400,
        maximum: 599,
      },
      message: {
        description: 'The "error" text of the JSON answer; default "Forbidden"',
        type: "string",
      },
    },
  },
  // A request the plugin could not check is refused (502) rather than let through.
  fail: "closed",
};

let prefixes = [];
let status = 403;
let message = "Forbidden";

export function setup(config) {
  // Trailing slashes are dropped so "/admin/" and "/admin" mean the same prefix.
  prefixes = config.prefixes.map((prefix) => normalise(prefix).replace(/\/+$/, ""));
  status = config.status ?? 403;
  message = config.message ?? "Forbidden";
}

/** Percent-decoded path with empty and dot segments resolved, as most upstreams see it. */
function normalise(path) {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // Malformed escapes: compare the path as it is.
  }
  const out = [];
  for (const segment of decoded.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  return "/" + out.join("/");
}

function blocked(path) {
  const p = normalise(path);
  return prefixes.some((prefix) => prefix === "" || p === prefix || p.startsWith(prefix + "/"));
}

export function onRequest(req) {
  if (!blocked(req.path)) return undefined;
  return {
    respond: {
      status,
      headers: { "content-type": "application/json", "cache-control": "no-store" },
      body: JSON.stringify({ error: message, path: req.path, request_id: req.id }),
    },
  };
}
