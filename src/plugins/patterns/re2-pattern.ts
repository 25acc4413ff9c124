/**
 * One pattern compiled by re2js (a pure-JavaScript port of RE2/J). Every use of re2js beyond its README (the RE2
 * object behind `RE2JS.re2()`: `matchWithGroup`, `cond`, `onepass`, the DFA's budget) is in this file, so that an
 * upgrade of re2js is checked in one place; the unit tests compare results with V8's.
 *
 * Why these calls: re2js picks its engine by what is asked. A question without positions (`test`, or `find` with no
 * groups) runs its lazy DFA, about as fast as V8's backtracking engine on ordinary patterns; a question with positions
 * runs its backtracker or Pike VM (NFA), 5-30 times slower, linear in the input either way. So a pattern set asks the
 * DFA first whether there is anything to find, and asks for positions only when there is. Positions come from
 * `RE2.matchWithGroup` (declared in re2js's types), which takes an input wrapped once per scan (not once per call as
 * `Matcher` and `exec` do), and searches from any position with the context of the whole text (so `^`, `\b` and `$`
 * see the characters around that position).
 *
 * Offsets are UTF-16 code-unit indices into the JavaScript string, like `RegExp`'s; matching itself works on code
 * points (a surrogate pair is one character to `.` and to classes), like `RegExp` with the `u` flag.
 */
import { MatcherInput, RE2JS, RE2Set } from "re2js";

/** A text wrapped for re2js once per scan, so each search does not wrap it again. */
export type Re2Input = ReturnType<typeof MatcherInput.utf16>;

/** re2js's anchor argument for a search that may start anywhere at or after the given position. */
const UNANCHORED = RE2Set.UNANCHORED;
/** re2js's anchor argument for a match that starts at the given position (only 0 is accepted). */
const ANCHOR_START = RE2Set.ANCHOR_START;
/** RE2's empty-width flag for `^` without `m` (`\A`); the bit in a program's start condition (Go's EmptyBeginText). */
const EMPTY_BEGIN_TEXT = 4;

/**
 * Memory for the DFA of one pattern, in re2js's estimate (close to the heap it takes). re2js's default is 8 MiB per
 * DFA; a text can push a pattern such as `[ab]*a[ab]{20}` to that, and a set holds up to 64 patterns. The redaction
 * patterns use 2-12 KB each over a megabyte of JSON. When the budget is spent, re2js clears the DFA's cache and goes
 * on, or answers with its NFA (still linear) if it keeps clearing it.
 */
export const PATTERN_DFA_BYTES = 512 * 1024;
/** The same for the DFAs over a whole set (see AnyOf), which hold every pattern's states. */
export const SET_DFA_BYTES = 2 * 1024 * 1024;

/** Sets the memory budget of a compiled pattern's DFA (`RE2.dfa`, created here if it was not yet). */
export function limitDfaMemory(pattern: RE2JS, bytes: number): void {
  const dfa = pattern.re2().dfa;
  dfa.stateBudget = bytes;
  dfa.memBudget = bytes;
}

/** Wraps a text for {@link Re2Pattern.find} and {@link Re2Pattern.matchesFrom}. */
export function re2Input(text: string): Re2Input {
  return MatcherInput.utf16(text);
}

/** A compiled pattern: RE2 syntax, with RE2 inline flags (`i`, `m`, `s`) applied to the whole of it. */
export class Re2Pattern {
  /** The pattern as re2js compiled it: `(?flags)` and the source. */
  readonly source: string;
  /** Number of capturing groups (named ones too), numbered from 1 by their opening parenthesis as in JavaScript. */
  readonly groupCount: number;
  /** Group number of each named group, or undefined when the pattern has none (`$<` is then literal, as in JS). */
  readonly names: ReadonlyMap<string, number> | undefined;
  /** re2js's program size (instructions), the factor by which a position search's cost grows per character. */
  readonly programSize: number;
  readonly #pattern: RE2JS;
  readonly #re2: ReturnType<RE2JS["re2"]>;
  /** Whether every match starts at offset 0 (the pattern begins with `^` without `m`, or `\A`, in every branch). */
  readonly #anchored: boolean;

  /** @throws re2js's `RE2JSSyntaxException` when the source is not valid RE2 syntax */
  constructor(source: string, inlineFlags: string) {
    this.source = inlineFlags === "" ? source : `(?${inlineFlags})${source}`;
    this.#pattern = RE2JS.compile(this.source);
    this.#re2 = this.#pattern.re2();
    this.groupCount = this.#pattern.groupCount();
    const names = Object.entries(this.#pattern.namedGroups());
    this.names = names.length === 0 ? undefined : new Map(names);
    this.programSize = this.#pattern.programSize();
    limitDfaMemory(this.#pattern, PATTERN_DFA_BYTES);
    // A pattern anchored at the start of the text (a path filter's `^/api/`) needs one attempt at offset 0. re2js
    // answers a question without positions about such a pattern with its one-pass engine, which allocates per call
    // and costs 0.4 µs on a 20-character path; its DFA, anchored, answers in about 0.1 µs and stops as soon as the
    // pattern cannot match any more. Clearing `onepass` (a field of re2js's RE2 object) only changes which engine
    // runs; the start condition (`cond`) is what re2js's own engines read to skip a search from anywhere but 0.
    this.#anchored = (this.#re2.cond & EMPTY_BEGIN_TEXT) !== 0;
    if (this.#anchored) (this.#re2 as { onepass: unknown }).onepass = null;
  }

  /** Whether the pattern matches anywhere in the text (DFA). */
  test(text: string): boolean {
    if (!this.#anchored) return this.#pattern.test(text);
    return this.#re2.matchWithGroup(text, 0, text.length, ANCHOR_START, 0)[0] === true;
  }

  /** Whether a match starts at or after `from` (DFA, no positions). */
  matchesFrom(input: Re2Input, from: number, length: number): boolean {
    if (this.#anchored) return from === 0 && this.#re2.matchWithGroup(input, 0, length, ANCHOR_START, 0)[0] === true;
    return this.#re2.matchWithGroup(input, from, length, UNANCHORED, 0)[0] === true;
  }

  /**
   * The leftmost-first match that starts at or after `from`, as `[start, end]` followed by the start and end of each
   * of the first `groups` capturing groups (-1 and -1 for a group that took no part), or undefined when there is none.
   */
  find(input: Re2Input, from: number, length: number, groups = 0): number[] | undefined {
    if (this.#anchored && from > 0) return undefined;
    const [found, positions] = this.#re2.matchWithGroup(input, from, length, UNANCHORED, 1 + groups) as [
      boolean,
      number[] | null,
    ];
    return found && positions !== null ? positions : undefined;
  }
}
