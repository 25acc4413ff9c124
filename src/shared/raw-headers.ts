/**
 * Headers as they travel through tapline: flat raw lists
 * (`[name, value, name, value, ...]`, the shape of Node's `rawHeaders`), so
 * the hot path neither allocates maps nor loses the case and order a client
 * sent. These are the list operations every layer uses.
 */

/** A flat header list: names at even indexes, values at odd ones. */
export type RawHeaders = string[];

/** First value of a header (case-insensitive name), or undefined. */
export function headerValue(headers: RawHeaders, lowerName: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return headers[i + 1];
  }
  return undefined;
}

/** The flat list as `[name, value]` pairs, the shape `Headers` and `Response` accept. */
export function headerPairs(raw: RawHeaders): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}

/**
 * Header changes: a string or list sets the header (replacing every value),
 * `null` removes it.
 */
export type HeaderPatch = Record<string, string | string[] | null>;

/** A header name and value pass the HTTP token and field-value rules (no CR, LF or NUL). */
const NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VALUE = /^[^\r\n\0]*$/;

/**
 * Applies a header patch to raw headers: set replaces every value of the
 * name, `null` removes it. Returns a new list.
 *
 * @example
 * patchHeaders(["Content-Length", "5"], { "content-length": "7", "x-tag": ["a", "b"] });
 * // ["content-length", "7", "x-tag", "a", "x-tag", "b"]
 *
 * @throws Error naming the header when a name or value is not valid HTTP.
 */
export function patchHeaders(raw: RawHeaders, patch: HeaderPatch): RawHeaders {
  const names = Object.keys(patch);
  if (names.length === 0) return raw;
  const lower = new Set(names.map((name) => name.toLowerCase()));
  const result: RawHeaders = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!lower.has(raw[i]!.toLowerCase())) result.push(raw[i]!, raw[i + 1]!);
  }
  for (const name of names) {
    const value = patch[name];
    if (value === null || value === undefined) continue;
    if (!NAME.test(name)) throw new Error(`Invalid header name ${JSON.stringify(name)}`);
    for (const item of Array.isArray(value) ? value : [value]) {
      const text = String(item);
      if (!VALUE.test(text)) throw new Error(`Invalid value for header ${name}`);
      result.push(name, text);
    }
  }
  return result;
}
