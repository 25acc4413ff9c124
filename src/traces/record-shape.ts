/**
 * Whether a parsed JSON value has the shape of a record, as far as readers
 * and sinks rely on it. Capture files are attacker-reachable input (a file
 * copied from elsewhere, a hand edit, a half-written line): one wrong-shaped
 * line must be skipped with a reason, never crash a reindex or a trace page.
 * Lenient about fields it does not use (older and newer writers add some);
 * strict about the types of those it does; bounded in depth and size.
 */

/** Deepest nesting accepted in `tags` and custom `data` (objects and arrays). */
export const MAX_NESTING = 64;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Why `value[key]` is not of `kind` (when `optional`, absent is fine), or undefined. */
function field(value: Json, key: string, kind: "string" | "number" | "boolean", optional = false): string | undefined {
  const found = value[key];
  if (found === undefined && optional) return undefined;
  const type: string = typeof found;
  return type === kind ? undefined : `"${key}" must be a ${kind}`;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Why a captured text (body, payload) is unusable: base64 that is not base64. */
function encodedText(value: Json, textKey: string, base64Key: string, where: string): string | undefined {
  const text = value[textKey];
  if (text === undefined) return undefined;
  if (typeof text !== "string") return `"${where}${textKey}" must be a string`;
  if (value[base64Key] === true && (text.length % 4 !== 0 || !BASE64.test(text))) {
    return `"${where}${textKey}" is marked base64 but is not valid base64`;
  }
  return undefined;
}

/** Why a header map is not `{name: [values]}`. */
function headers(value: unknown, where: string): string | undefined {
  if (!isObject(value)) return `"${where}headers" must be an object`;
  for (const [name, values] of Object.entries(value)) {
    if (!Array.isArray(values) || values.some((item) => typeof item !== "string")) {
      return `"${where}headers.${name.slice(0, 64)}" must be a list of strings`;
    }
  }
  return undefined;
}

/** Why a request or response part is unusable. */
function part(value: unknown, side: "request" | "response"): string | undefined {
  if (!isObject(value)) return `"${side}" must be an object`;
  const where = `${side}.`;
  const checks = side === "request"
    ? [field(value, "method", "string"), field(value, "url", "string")]
    : [field(value, "status", "number"), field(value, "status_text", "string", true)];
  for (const problem of checks) if (problem !== undefined) return problem.replace('"', `"${where}`);
  return headers(value["headers"], where) ??
    field(value, "body_size", "number")?.replace('"', `"${where}`) ??
    encodedText(value, "body", "body_base64", where) ??
    encodedText(value, "body_decoded", "body_decoded_base64", where);
}

/** Why a value nests deeper than MAX_NESTING, without recursion. */
function tooDeep(value: unknown, key: string): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [next, depth] = stack.pop()!;
    if (typeof next !== "object" || next === null) continue;
    if (depth > MAX_NESTING) return `"${key}" nests deeper than ${MAX_NESTING} levels`;
    for (const child of Object.values(next)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

/** Why a frame's or message's `direction` is unusable. */
function direction(value: Json): string | undefined {
  return value["direction"] === "client_to_server" || value["direction"] === "server_to_client"
    ? undefined
    : '"direction" must be client_to_server or server_to_client';
}

/** Why the fields every record has are unusable. */
function common(value: Json): string | undefined {
  return field(value, "id", "string") ?? field(value, "timestamp", "string") ??
    field(value, "route_name", "string") ??
    (value["tags"] !== undefined && !isObject(value["tags"]) ? '"tags" must be an object' : undefined) ??
    tooDeep(value["tags"], "tags");
}

/**
 * Why `value` (a record of a known `type`) cannot be used, or undefined.
 *
 * @example shapeProblem({ type: "http", request: null, ... }) // '"request" must be an object'
 */
export function shapeProblem(value: Json): string | undefined {
  const problem = common(value);
  if (problem !== undefined) return problem;
  switch (value["type"]) {
    case "http":
      return part(value["request"], "request") ??
        (value["response"] === undefined ? undefined : part(value["response"], "response")) ??
        field(value, "duration_ms", "number", true) ?? field(value, "error", "string", true) ??
        field(value, "correlation_id", "string", true);
    case "websocket_frame":
      return field(value, "connection_id", "string") ??
        direction(value) ?? field(value, "opcode", "number") ?? field(value, "payload_size", "number") ??
        encodedText(value, "payload", "payload_base64", "");
    case "sse_event":
      return field(value, "connection_id", "string") ?? field(value, "t_delta_ms", "number") ??
        field(value, "event", "string") ?? field(value, "data", "string");
    case "grpc_message":
      return field(value, "connection_id", "string") ?? direction(value) ?? field(value, "seq", "number") ??
        field(value, "payload_size", "number") ?? field(value, "compressed", "boolean") ??
        encodedText(value, "payload", "payload_base64", "");
    default:
      return field(value, "plugin", "string") ?? field(value, "connection_id", "string", true) ??
        tooDeep(value["data"], "data");
  }
}
