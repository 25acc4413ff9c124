/**
 * Conversions between the core's raw header lists and the header shapes
 * plugins see and return.
 */
import type { RawHeaders } from "../shared/raw-headers.ts";
import type { PluginHeaders } from "./types.ts";

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
