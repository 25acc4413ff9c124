/**
 * Conversions between the core's raw header lists and the header shapes
 * plugins see and return.
 */
import type { RawHeaders } from "../core/headers.ts";
import type { HeaderPatch, PluginHeaders } from "./types.ts";

/** Raw headers as plugins see them: lower-case names, repeated values joined with ", ". */
export function pluginHeaders(raw: RawHeaders): PluginHeaders {
  const headers: PluginHeaders = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous}, ${value}`;
  }
  return headers;
}

/** A header name and value pass the HTTP token and field-value rules (no CR, LF or NUL). */
const NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VALUE = /^[^\r\n\0]*$/;

/**
 * Applies a plugin's header patch to raw headers: set replaces every value of
 * the name, `null` removes it. Returns a new list.
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
    if (!NAME.test(name)) throw new Error(`invalid header name ${JSON.stringify(name)}`);
    for (const item of Array.isArray(value) ? value : [value]) {
      const text = String(item);
      if (!VALUE.test(text)) throw new Error(`invalid value for header ${name}`);
      result.push(name, text);
    }
  }
  return result;
}

/** The value of a header in a raw list (first match, case-insensitive). */
export function rawHeader(raw: RawHeaders, name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  }
  return undefined;
}

/** Whether a media type (`application/json; charset=utf-8`) matches a pattern such as `text/*` or `application/*+json`. */
export function mediaTypeMatches(contentType: string, pattern: string): boolean {
  const type = contentType.split(";", 1)[0]!.trim().toLowerCase();
  const wanted = pattern.toLowerCase();
  if (wanted === type || wanted === "*/*") return true;
  const slash = wanted.indexOf("/");
  const [major, minor] = [wanted.slice(0, slash), wanted.slice(slash + 1)];
  if (!type.startsWith(major + "/")) return false;
  if (minor === "*") return true;
  if (minor.startsWith("*+")) return type.endsWith(minor.slice(1));
  return false;
}
