/**
 * Which patterns of a set occur in a text, and whether any does, in one pass of a DFA over the text.
 *
 * A scan asks this first: most captured bodies contain none of a redaction plugin's patterns, and then the answer
 * costs one DFA pass (about what V8 needs for the same patterns) instead of a position search per pattern. When some
 * do occur, only those are searched for positions.
 */
import { RE2JS, RE2Set } from "re2js";
import { limitDfaMemory, SET_DFA_BYTES } from "./re2-pattern.ts";

/** Presence questions about a list of patterns (RE2 sources with their inline flags already applied). */
export class AnyOf {
  readonly #set: RE2Set;
  /** `(?:p0)|(?:p1)|...`, whose DFA stops at the first match; undefined when it does not compile (see constructor). */
  readonly #alternation: RE2JS | undefined;

  /** @param sources each already compiles on its own */
  constructor(sources: readonly string[]) {
    this.#set = new RE2Set(RE2Set.UNANCHORED, 0, SET_DFA_BYTES);
    for (const source of sources) this.#set.add(source);
    this.#set.compile();
    this.#alternation = alternationOf(sources);
  }

  /** Indexes of the patterns that match somewhere in the text, ascending. */
  which(text: string): number[] {
    return this.#set.match(text);
  }

  /** Whether any pattern matches somewhere in the text; stops at the first match. */
  test(text: string): boolean {
    return this.#alternation === undefined ? this.#set.match(text).length > 0 : this.#alternation.test(text);
  }
}

/**
 * One alternation of all the sources, for `test`. Each is wrapped in its own group, which also scopes its inline
 * flags. Joining sources cannot change what one means, but it can fail to compile: two patterns may name a group
 * alike, and a source that ends inside `\Q...` (quoted to its end) would quote the closing parenthesis, leaving a group
 * unclosed. Both are compile errors rather than a different pattern, and then the set answers `test` instead (one
 * whole pass, without stopping at the first match).
 */
function alternationOf(sources: readonly string[]): RE2JS | undefined {
  let alternation: RE2JS;
  try {
    alternation = RE2JS.compile(sources.map((source) => `(?:${source})`).join("|"));
  } catch {
    return undefined;
  }
  limitDfaMemory(alternation, SET_DFA_BYTES);
  return alternation;
}
