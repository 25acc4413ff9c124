/**
 * re2js's syntax errors in words a JavaScript author understands: RE2 has no
 * lookaround or backreferences, and its escapes differ a little from
 * JavaScript's. Plugin patterns and filter expressions both report through it.
 */

/** The fields of re2js's `RE2JSSyntaxException` this file reads (duck-typed so no re2js import is needed here). */
interface Re2SyntaxFields {
  /** re2js's description, e.g. "missing closing )". */
  error?: unknown;
  /** The part of the pattern it points at, e.g. "(?<=a)b"; null for a trailing backslash. */
  input?: unknown;
}

/**
 * What is wrong with a pattern re2js refused, in words a JavaScript author understands. re2js reports a lookbehind as
 * an "invalid named capture" and a backreference as an "invalid escape sequence", which is true of RE2's syntax but
 * does not say why; the constructs a linear-time engine cannot have are named as such.
 */
export function describeSyntaxError(error: unknown): string {
  if (!(error instanceof Error)) return `invalid regular expression: ${String(error)}`;
  const { error: what, input } = error as Re2SyntaxFields;
  if (typeof what !== "string") return `invalid regular expression: ${error.message}`;
  const fragment = typeof input === "string" ? input : "";
  const at = fragment === "" ? "" : `: \`${fragment}\``;
  return `invalid regular expression: ${explain(what, fragment)}${at}`;
}

function explain(what: string, fragment: string): string {
  if (fragment.startsWith("(?<=") || fragment.startsWith("(?<!")) {
    return "lookbehind is not supported in linear-time patterns";
  }
  if (fragment === "(?=" || fragment === "(?!") return "lookahead is not supported in linear-time patterns";
  if (/^\\[1-9]$/.test(fragment) || fragment === "\\k") {
    return "backreferences are not supported in linear-time patterns";
  }
  if (fragment === "\\u") return "\\u escapes are not supported, write a code point as \\x{263A}";
  if (fragment === "\\c") return "control escapes (\\cX) are not supported, write \\x01 and so on";
  if (/^(?:[*+?]|\{[0-9,]*\})\+$/.test(fragment)) return "possessive quantifiers are not supported";
  if (what === "invalid repeat count") return "invalid repeat count (at most 1000, and min <= max)";
  // The remaining re2js descriptions already say what is wrong ("missing closing )", "invalid character class range").
  return what;
}
