/**
 * Regular expressions in filters run on re2js, a linear-time engine: a
 * filter comes from whoever may call the trace API, and the texts it is
 * matched against (URLs, headers, bodies) come from whoever sent traffic, so
 * neither may be able to stall the server. Matching is case-insensitive, as in
 * mitmproxy.
 */
import { RE2JS } from "re2js";
import { describeSyntaxError } from "../../shared/regex-syntax.ts";
import { FilterError } from "./filter-error.ts";

/** A compiled filter regex. */
export interface TextPattern {
  readonly source: string;
  /** Whether the pattern occurs somewhere in the text. */
  test(text: string): boolean;
}

/** Longest regex source accepted in a filter. */
export const MAX_REGEX_LENGTH = 1024;
/**
 * Largest compiled program accepted (re2js instructions): matching costs up
 * to this much per character, so it bounds the work per byte of a body.
 * `[a-z]{1,1000}` compiles to ~2,000 instructions; nested counted
 * repetitions can reach millions.
 */
export const MAX_PROGRAM_SIZE = 10_000;
/** Memory for one pattern's lazy DFA; past it re2js clears its cache or falls back to its (linear) NFA. */
const DFA_BYTES = 512 * 1024;

/** Compiles `source` for a filter argument at `column`. @throws FilterError */
export function compileRegex(source: string, column: number): TextPattern {
  if (source.length > MAX_REGEX_LENGTH) {
    throw new FilterError(column, `a regular expression may be at most ${MAX_REGEX_LENGTH} characters long`);
  }
  let pattern: RE2JS;
  try {
    pattern = RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
  } catch (error) {
    throw new FilterError(column, describeSyntaxError(error));
  }
  if (pattern.programSize() > MAX_PROGRAM_SIZE) {
    throw new FilterError(
      column,
      `the regular expression "${source}" is too complex (${pattern.programSize()} instructions, at most ${MAX_PROGRAM_SIZE})`,
    );
  }
  const dfa = pattern.re2().dfa;
  dfa.stateBudget = DFA_BYTES;
  dfa.memBudget = DFA_BYTES;
  return { source, test: (text) => pattern.test(text) };
}
