/**
 * "Copy as curl": the command that sends a captured request again. Every
 * value is single-quoted for a POSIX shell, so a captured header or body
 * cannot break out of its argument.
 */
import type { HttpRecord } from "../../src/shared/record.ts";
import { headerValue } from "./body.ts";

/** `'text'` with every `'` written as `'\''`. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Headers curl sets by itself or that would be wrong on a new request. */
const SKIPPED = new Set(["content-length", "host", "connection", "transfer-encoding"]);

/** The curl command for the record's request, aimed at the host it was sent to. */
export function curlCommand(record: HttpRecord): string {
  const request = record.request;
  const host = headerValue(request.headers, "host") ?? "127.0.0.1";
  const parts = ["curl"];
  if (request.method !== "GET") parts.push("-X", shellQuote(request.method));
  parts.push(shellQuote(`http://${host}${request.url}`));
  for (const [name, values] of Object.entries(request.headers)) {
    if (SKIPPED.has(name.toLowerCase())) continue;
    for (const value of values) parts.push("-H", shellQuote(`${name}: ${value}`));
  }
  if (request.body !== undefined && request.body !== "") {
    if (request.body_base64) parts.push("--data-binary", "@body.bin", "# binary body: save it as body.bin first");
    else parts.push("--data-binary", shellQuote(request.body));
  }
  if (request.body_truncated) parts.push("# the captured body was truncated");
  return parts.join(" ");
}
