/**
 * The filter language's grammar, mitmproxy's in spirit:
 *
 * ```text
 * filter  = or
 * or      = and ("|" and)*
 * and     = unary ("&"? unary)*        two terms side by side mean "and"
 * unary   = "!" unary | "(" or ")" | key argument | "~e" | word
 * ```
 *
 * `|` binds loosest, then `&`, then `!`. Arguments are checked here (a status
 * class, a duration, a known record type) and regular expressions compiled
 * here, so a bad filter fails before any record is read.
 */
import { FilterError } from "./filter-error.ts";
import { compileRegex, type TextPattern } from "./regex.ts";
import { type Token, tokenize } from "./tokens.ts";

import { FILTER_TYPES, type FilterType } from "../record-kind.ts";

export { FILTER_TYPES, type FilterType };

/** Which side of an exchange a header or body filter looks at. */
export type Side = "any" | "request" | "response";

/** A parsed filter. */
export type FilterNode =
  | { op: "all" }
  | { op: "and" | "or"; left: FilterNode; right: FilterNode }
  | { op: "not"; operand: FilterNode }
  | { op: "method"; method: string }
  | { op: "status"; min: number; max: number }
  | { op: "url"; pattern: TextPattern }
  | { op: "header"; side: Side; name: string | undefined; pattern: TextPattern }
  | { op: "body"; side: Side; pattern: TextPattern }
  | { op: "route"; route: string }
  | { op: "type"; type: FilterType }
  | { op: "duration"; compare: Comparison; ms: number }
  | { op: "id"; id: string }
  | { op: "error" }
  | { op: "word"; word: string };

/** How `~d` compares a duration. */
export type Comparison = ">" | ">=" | "<" | "<=" | "=";

/** Longest filter accepted: enough for any hand-written one, and a bound on parsing work. */
export const MAX_FILTER_LENGTH = 4096;

/** What each key takes, for messages. */
const KEYS: Record<string, string> = {
  "~m": "a method, e.g. ~m POST",
  "~s": "a status or class, e.g. ~s 404 or ~s 5xx",
  "~u": "a regular expression, e.g. ~u ^/api/",
  "~h": 'a header, e.g. ~h "content-type: json"',
  "~hq": 'a request header, e.g. ~hq "authorization: ^Bearer"',
  "~hs": 'a response header, e.g. ~hs "cache-control: no-store"',
  "~b": "a regular expression, e.g. ~b error",
  "~bq": "a regular expression, e.g. ~bq password",
  "~bs": "a regular expression, e.g. ~bs error",
  "~r": "a route name, e.g. ~r api",
  "~t": `a record type: ${FILTER_TYPES.join(", ")}`,
  "~d": "a duration with a comparison, e.g. ~d >500ms",
  "~c": "an id, e.g. ~c 4bf92f35",
  "~e": "nothing",
};

/** Keys whose argument is (or holds) a regular expression. */
const REGEX_KEYS = new Set(["~u", "~h", "~hq", "~hs", "~b", "~bq", "~bs"]);

/**
 * Parses a filter expression; the empty filter matches everything.
 * @throws FilterError naming the column and what was expected
 */
export function parseFilter(text: string): FilterNode {
  if (text.length > MAX_FILTER_LENGTH) {
    throw new FilterError(MAX_FILTER_LENGTH + 1, `a filter may be at most ${MAX_FILTER_LENGTH} characters long`);
  }
  const parser = new Parser(tokenize(text), text.length + 1);
  if (parser.atEnd()) return { op: "all" };
  const node = parser.or();
  if (!parser.atEnd()) {
    const token = parser.peek()!;
    throw new FilterError(token.column, `expected "&", "|" or the end of the filter, found ${describe(token)}`);
  }
  return node;
}

function describe(token: Token | undefined): string {
  if (token === undefined) return "the end of the filter";
  switch (token.kind) {
    case "key":
      return `"${token.key}"`;
    case "word":
      return `"${token.text}"`;
    default:
      return `"${{ not: "!", and: "&", or: "|", open: "(", close: ")" }[token.kind]}"`;
  }
}

class Parser {
  readonly #tokens: Token[];
  readonly #endColumn: number;
  #next = 0;

  constructor(tokens: Token[], endColumn: number) {
    this.#tokens = tokens;
    this.#endColumn = endColumn;
  }

  atEnd(): boolean {
    return this.#next >= this.#tokens.length;
  }

  peek(): Token | undefined {
    return this.#tokens[this.#next];
  }

  #column(): number {
    return this.peek()?.column ?? this.#endColumn;
  }

  or(): FilterNode {
    let left = this.#and();
    while (this.peek()?.kind === "or") {
      this.#next++;
      left = { op: "or", left, right: this.#and() };
    }
    return left;
  }

  #and(): FilterNode {
    let left = this.#unary();
    for (;;) {
      const token = this.peek();
      if (token?.kind === "and") this.#next++;
      else if (token === undefined || token.kind === "or" || token.kind === "close") return left;
      left = { op: "and", left, right: this.#unary() };
    }
  }

  #unary(): FilterNode {
    const token = this.peek();
    if (token === undefined) throw new FilterError(this.#endColumn, "expected a filter, found the end of the filter");
    this.#next++;
    switch (token.kind) {
      case "not":
        return { op: "not", operand: this.#unary() };
      case "open": {
        const inner = this.or();
        if (this.peek()?.kind !== "close") {
          throw new FilterError(
            this.#column(),
            `expected ")" to close the "(" at column ${token.column}, found ${describe(this.peek())}`,
          );
        }
        this.#next++;
        return inner;
      }
      case "key":
        return this.#key(token.key, token.column);
      case "word":
        return { op: "word", word: token.text.toLowerCase() };
      default:
        throw new FilterError(token.column, `expected a filter, found ${describe(token)}`);
    }
  }

  /** The argument after a key: the next word, which must be there. */
  #argument(key: string, keyColumn: number): { text: string; column: number } {
    const token = this.peek();
    if (token?.kind !== "word") {
      // A bare argument ends at an operator character, so a regex such as (a|b) must be quoted.
      const hint = token !== undefined && token.kind !== "key" && REGEX_KEYS.has(key)
        ? ': quote a regular expression that holds spaces or any of ( ) & | !, e.g. ~u "^/(a|b)/"'
        : "";
      throw new FilterError(
        token?.column ?? this.#endColumn,
        `${key} (column ${keyColumn}) needs ${KEYS[key]}, found ${describe(token)}${hint}`,
      );
    }
    this.#next++;
    return { text: token.text, column: token.column };
  }

  #key(key: string, column: number): FilterNode {
    if (!(key in KEYS)) {
      throw new FilterError(column, `unknown filter "${key}" (known: ${Object.keys(KEYS).join(" ")})`);
    }
    if (key === "~e") return { op: "error" };
    if (key === "~d") return this.#duration(column);
    const arg = this.#argument(key, column);
    switch (key) {
      case "~m":
        return { op: "method", method: arg.text.toUpperCase() };
      case "~s":
        return status(arg.text, arg.column);
      case "~u":
        return { op: "url", pattern: compileRegex(arg.text, arg.column) };
      case "~h":
      case "~hq":
      case "~hs":
        return header(key === "~hq" ? "request" : key === "~hs" ? "response" : "any", arg.text, arg.column);
      case "~b":
      case "~bq":
      case "~bs": {
        const side = key === "~bq" ? "request" : key === "~bs" ? "response" : "any";
        return { op: "body", side, pattern: compileRegex(arg.text, arg.column) };
      }
      case "~r":
        return { op: "route", route: arg.text };
      case "~t": {
        const type = arg.text.toLowerCase();
        if (!(FILTER_TYPES as readonly string[]).includes(type)) {
          throw new FilterError(arg.column, `unknown record type "${arg.text}" (known: ${FILTER_TYPES.join(", ")})`);
        }
        return { op: "type", type: type as FilterType };
      }
      default: // ~c
        return { op: "id", id: arg.text };
    }
  }

  /** `~d >500ms`, `~d >= 1.5s`, `~d 2s` (at least). */
  #duration(keyColumn: number): FilterNode {
    let { text, column } = this.#argument("~d", keyColumn);
    if (/^(?:>=?|<=?|=)$/.test(text)) {
      const operand = this.#argument("~d", keyColumn);
      text += operand.text;
    }
    const match = /^(>=?|<=?|=)?([0-9]+(?:\.[0-9]+)?)(ms|s|m)?$/i.exec(text);
    if (!match) {
      throw new FilterError(column, `"${text}" is not a duration: write e.g. >500ms, <=2s or >1.5m (ms, s or m)`);
    }
    const unit = (match[3] ?? "ms").toLowerCase();
    const ms = Number(match[2]) * (unit === "m" ? 60_000 : unit === "s" ? 1_000 : 1);
    return { op: "duration", compare: (match[1] ?? ">=") as Comparison, ms };
  }
}

/** `404`, `5xx` (any case). */
function status(text: string, column: number): FilterNode {
  if (/^[1-5][0-9][0-9]$/.test(text)) return { op: "status", min: Number(text), max: Number(text) };
  if (/^[1-5]xx$/i.test(text)) {
    const min = Number(text[0]) * 100;
    return { op: "status", min, max: min + 99 };
  }
  throw new FilterError(column, `"${text}" is not a status: write a code such as 404 or a class such as 5xx`);
}

/**
 * `name: regex` matches a header of that name (any case) whose value matches
 * the regex, when the name is letters, digits, `-` and `_`; otherwise (say
 * `^x-.*: 1`, or no colon) the regex is matched against each `name: value`
 * line, names in lower case.
 */
function header(side: Side, text: string, column: number): FilterNode {
  const colon = text.indexOf(":");
  if (colon > 0 && /^[0-9A-Za-z_-]+$/.test(text.slice(0, colon).trim())) {
    const name = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    return { op: "header", side, name, pattern: compileRegex(value, column) };
  }
  return { op: "header", side, name: undefined, pattern: compileRegex(text, column) };
}
