/**
 * The tokens of a filter expression: operators (`!`, `&`, `|`, parentheses),
 * filter keys (`~m`, `~s`, ...) and words, bare or quoted. Words are what
 * keys take as arguments and what a plain word searches for in the URL.
 */
import { FilterError } from "./filter-error.ts";

/** One token and the 1-based column where it starts. */
export type Token =
  | { kind: "not" | "and" | "or" | "open" | "close"; column: number }
  | { kind: "key"; key: string; column: number }
  | { kind: "word"; text: string; quoted: boolean; column: number };

const OPERATORS: Record<string, "not" | "and" | "or" | "open" | "close"> = {
  "!": "not",
  "&": "and",
  "|": "or",
  "(": "open",
  ")": "close",
};

/** Characters that end a bare word. */
const isBreak = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r" || c in OPERATORS;

/**
 * Splits a filter into tokens. A bare word runs to the next space or
 * operator character; a quoted word (`"..."` or `'...'`) may hold them, with
 * `\` escaping the quote and the backslash itself (other escapes are kept as
 * written, so a regex's `\d` survives). @throws FilterError
 */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const column = i + 1;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
    } else if (c in OPERATORS) {
      tokens.push({ kind: OPERATORS[c]!, column });
      i++;
    } else if (c === '"' || c === "'") {
      let word = "";
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === "\\" && (text[i + 1] === c || text[i + 1] === "\\")) i++;
        word += text[i];
        i++;
      }
      if (i >= text.length) throw new FilterError(column, `the quote ${c} opened here is never closed`);
      i++;
      tokens.push({ kind: "word", text: word, quoted: true, column });
    } else {
      let end = i;
      while (end < text.length && !isBreak(text[end]!)) end++;
      const word = text.slice(i, end);
      i = end;
      if (word.startsWith("~")) tokens.push({ kind: "key", key: word, column });
      else tokens.push({ kind: "word", text: word, quoted: false, column });
    }
  }
  return tokens;
}
