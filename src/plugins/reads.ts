/**
 * What a plugin reads (`reads:` in its manifest or its setup result): the
 * host passes a hook only those parts of its arguments, because every byte
 * crossing into QuickJS is paid twice (encoded here, parsed there). A field
 * a plugin did not declare is absent from what it sees.
 *
 * Entries:
 * - `"*"`: everything (the default when a plugin declares nothing);
 * - `"request"`, `"response"`: the whole request or response (the views of
 *   the mutate hooks, or the record's `request` / `response`);
 * - `"request.headers"`, `"response.body"`, ...: one field of them;
 * - `"response.headers.content-type"`: one header of them (lower-case name);
 * - any other single name (`"data"`, `"payload"`, `"duration_ms"`): a
 *   top-level field of a record given to `onCapture`.
 *
 * Identity fields always cross: `id` and `route` of a view; `type`, `v`,
 * `id`, `route_name`, `timestamp`, `connection_id` and `plugin_generation`
 * of a record.
 *
 * @example
 * export const manifest = { name: "tag-status", version: "1.0.0", description: "...",
 *   hooks: ["onCapture"], reads: ["response.status"] };
 */

/** One of `request`, `response`, `*` or a top-level record field, optionally with `.field`. */
const ENTRY = /^(\*|[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?)$/;
/** `request.headers.content-type`: one header (lower-case name) of a request or response. */
const HEADER_ENTRY = /^(request|response)\.headers\.[!#$%&'*+^_`|~0-9a-z-]+$/;
const HEADER_PREFIX = "headers.";

const VIEW_IDENTITY = ["id", "route"] as const;
const RECORD_IDENTITY = ["type", "v", "id", "route_name", "timestamp", "connection_id", "plugin_generation"] as const;

/** Which fields of one part cross: every one, or these. */
type Part = "all" | Set<string>;

type Plain = Record<string, unknown>;

const isPlain = (value: unknown): value is Plain =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A parsed `reads:` list. */
export class Reads {
  /** Everything crosses. */
  static readonly ALL = new Reads(true, new Map());

  readonly all: boolean;
  /** By top-level name: the whole field, or some of its fields. */
  readonly #parts: ReadonlyMap<string, Part>;

  private constructor(all: boolean, parts: Map<string, Part>) {
    this.all = all;
    this.#parts = parts;
  }

  /**
   * Parses a `reads:` list; `undefined` reads everything.
   *
   * @throws Error naming the entry (`reads[2]`) that is not a field name.
   */
  static parse(list: unknown): Reads {
    if (list === undefined) return Reads.ALL;
    if (!Array.isArray(list)) throw new Error('`reads` must be a list of field names such as "request.headers"');
    const parts = new Map<string, Part>();
    let all = false;
    list.forEach((entry, i) => {
      if (typeof entry !== "string" || !(ENTRY.test(entry) || HEADER_ENTRY.test(entry))) {
        throw new Error(
          `reads[${i}]: ${JSON.stringify(entry)} is not a field name such as "request.headers", "response" or "data"`,
        );
      }
      if (entry === "*") {
        all = true;
        return;
      }
      const dot = entry.indexOf(".");
      const top = dot === -1 ? entry : entry.slice(0, dot);
      const current = parts.get(top);
      if (dot === -1) parts.set(top, "all");
      else if (current !== "all") parts.set(top, (current ?? new Set<string>()).add(entry.slice(dot + 1)));
    });
    return all ? Reads.ALL : new Reads(false, parts);
  }

  /** Whether the plugin reads `entry` (`"request.body"`: that field, or its whole part). */
  reads(entry: string): boolean {
    if (this.all) return true;
    const dot = entry.indexOf(".");
    const part = this.#parts.get(dot === -1 ? entry : entry.slice(0, dot));
    return part === "all" || (part !== undefined && dot !== -1 && part.has(entry.slice(dot + 1)));
  }

  /** Whether the plugin reads `top` (a top-level name) at all. */
  touches(top: string): boolean {
    return this.all || this.#parts.has(top);
  }

  /** A request or response view with only what is read (the view itself when everything is). */
  view<T extends object>(part: "request" | "response", value: T): Partial<T> {
    if (this.all) return value;
    const wanted = this.#parts.get(part);
    if (wanted === "all") return value;
    const out: Plain = {};
    const source = value as Plain;
    for (const key of VIEW_IDENTITY) if (key in source) out[key] = source[key];
    if (wanted) {
      for (const key of wanted) {
        if (key in source) out[key] = source[key];
        else if (key.startsWith(HEADER_PREFIX) && !wanted.has("headers") && isPlain(source.headers)) {
          // View header names are lower-case already.
          const name = key.slice(HEADER_PREFIX.length);
          const headers = (out.headers ??= {}) as Plain;
          if (name in source.headers) headers[name] = source.headers[name];
        }
      }
    }
    return out as Partial<T>;
  }

  /** A record with only what is read (the record itself when everything is). */
  record<T extends object>(value: T): Partial<T> {
    if (this.all) return value;
    const source = value as Plain;
    const out: Plain = {};
    for (const key of RECORD_IDENTITY) if (key in source) out[key] = source[key];
    for (const [key, wanted] of this.#parts) {
      if (!(key in source)) continue;
      const field = source[key];
      if (wanted === "all" || !isPlain(field)) {
        out[key] = field;
        continue;
      }
      const part: Plain = {};
      for (const name of wanted) if (name in field) part[name] = field[name];
      if (!wanted.has("headers") && isPlain(field.headers)) {
        // Record header names keep their case: `reads` names them in lower case.
        for (const [header, values] of Object.entries(field.headers)) {
          if (wanted.has(HEADER_PREFIX + header.toLowerCase())) ((part.headers ??= {}) as Plain)[header] = values;
        }
      }
      out[key] = part;
    }
    return out as Partial<T>;
  }
}

/**
 * Applies what a plugin returned for a partial record onto the whole one,
 * as a JSON Merge Patch (RFC 7386): objects merge key by key, any other value
 * replaces, `null` removes. Returns a new object; `target` is not changed.
 */
export function mergeRecord(target: Plain, patch: Plain): Plain {
  const out: Plain = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isPlain(value) && isPlain(out[key])) out[key] = mergeRecord(out[key] as Plain, value);
    else out[key] = value;
  }
  return out;
}
