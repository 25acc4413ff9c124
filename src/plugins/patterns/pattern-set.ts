/**
 * Pattern sets: regular expressions that plugins run on the host, in a linear-time engine (re2js, RE2 semantics).
 *
 * Captured data is attacker-controlled and plugin patterns are written by users, so V8's backtracking `RegExp`, which
 * cannot be interrupted mid-match and takes exponential time on patterns such as `(a+)+$`, may only run patterns
 * tapline ships. RE2 finds every match in time linear in the text (times the pattern's size, which is capped here),
 * at the price of lookaround and backreferences, which RE2 does not have.
 *
 * Syntax is RE2's (https://github.com/google/re2/wiki/Syntax), which for most patterns is JavaScript's; named groups
 * may be written `(?<name>...)` or `(?P<name>...)`, code points `\x{263A}` (not `\u263A`), and `[]a]` is a class of `]`
 * and `a` (there is no `[^]` or `[\b]`). Results are what JavaScript's `RegExp` gives with the `u` flag (offsets in
 * UTF-16 code units, a surrogate pair matched as one character, case folding alike), except where RE2 differs: `.`
 * matches every character but `\n` (JavaScript also excludes `\r`, U+2028 and U+2029), `^` and `$` with `m` break
 * lines at `\n` only (JavaScript at all four), `\s` is ASCII whitespace `[\t\n\f\r ]` (JavaScript's includes `\v` and
 * Unicode's spaces), and `\b` looks at ASCII word characters only (with `i`, JavaScript also counts U+212A KELVIN SIGN
 * and U+017F LATIN SMALL LETTER LONG S). The unit tests compare results with V8's on generated texts.
 *
 * @example
 * ```ts
 * const secrets = compilePatternSet([
 *   { source: "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}" },
 *   { source: "bearer[ \\t]+([A-Za-z0-9._~+/-]{8,})", flags: "i" },
 * ]);
 * secrets.scan('{"to":"ann@example.com"}'); // [7, 22, 0]
 * secrets.replaceAll("Authorization: Bearer abcdefghijkl", "Bearer [$1]"); // "Authorization: Bearer [abcdefghijkl]"
 * ```
 */
import { AnyOf } from "./any-of.ts";
import { parseFlags } from "./flags.ts";
import { scanLeftmost } from "./leftmost.ts";
import { describeSyntaxError, PatternError } from "./pattern-error.ts";
import { re2Input, Re2Pattern } from "./re2-pattern.ts";
import { expandedLength, expandReplacement, parseReplacement, type Replacement } from "./replacement.ts";

export { PatternError } from "./pattern-error.ts";

/** One pattern: RE2 source text and JavaScript-style flags. */
export interface PatternSpec {
  /** RE2 syntax, e.g. `"^/api/(v[0-9]+)/"`. */
  readonly source: string;
  /** Any of `i`, `m`, `s`; `u` and `g` are accepted and change nothing (RE2 matches code points; sets find all). */
  readonly flags?: string;
}

/** Limits on what a set may hold; every one has a default. */
export interface PatternLimits {
  /** Most patterns in one set (default 64). */
  maxPatterns?: number;
  /** Longest source, in UTF-16 code units (default 4096). */
  maxSourceLength?: number;
  /**
   * Largest compiled pattern, in re2js program instructions (default 1000; the e-mail pattern of the example is 15,
   * `[0-9]{1000}` is 1002). RE2 keeps a scan's time linear in the text; this bounds the factor (see
   * {@link PatternSet.programSize}).
   */
  maxProgramSize?: number;
  /** Longest result `replaceAll` may build, in UTF-16 code units (default 16 Mi); longer throws a RangeError. */
  maxOutputLength?: number;
}

/** The defaults of {@link PatternLimits}. */
export const DEFAULT_PATTERN_LIMITS: Readonly<Required<PatternLimits>> = {
  maxPatterns: 64,
  maxSourceLength: 4096,
  maxProgramSize: 1000,
  maxOutputLength: 16 * 1024 * 1024,
};

/** Compiled patterns, matched together. Offsets are UTF-16 code-unit indices, as in JavaScript strings. */
export interface PatternSet {
  /** Number of patterns. */
  readonly size: number;
  /**
   * Sum of the patterns' re2js program sizes. A scan's time is linear in the text, and in the worst case (every
   * instruction live at every character, as `[a-z]{900}!` on a run of letters) this is the factor: about 30 ns per
   * character per instruction on Node here, so a caller may bound `programSize * text.length` before scanning.
   */
  readonly programSize: number;
  /**
   * Non-overlapping matches of any pattern, leftmost first, an earlier pattern winning at the same start (what the
   * alternation `(p0)|(p1)|...` finds with the `g` flag), as a flat list `[start, end, patternIndex, ...]`; at most
   * `maxMatches` matches (default: all). An empty match advances the scan by one code point, as in JavaScript.
   */
  scan(text: string, maxMatches?: number): number[];
  /** Whether any pattern matches anywhere in the text. */
  test(text: string): boolean;
  /**
   * The text with every match of {@link scan} replaced, the template expanded as `String.prototype.replace` does
   * (`$1`-`$99`, `$<name>`, `$&`, `` $` ``, `$'`, `$$`) with the groups of the pattern that matched.
   *
   * @throws RangeError when the result would be longer than `maxOutputLength`
   */
  replaceAll(text: string, replacement: string): string;
}

/**
 * Compiles patterns into a set, checking each against the limits.
 *
 * @throws PatternError naming the first spec that fails (its index in `specs`) and why
 */
export function compilePatternSet(specs: readonly PatternSpec[], limits: PatternLimits = {}): PatternSet {
  const resolved = { ...DEFAULT_PATTERN_LIMITS, ...definedOnly(limits) };
  if (specs.length > resolved.maxPatterns) {
    throw new PatternError(
      resolved.maxPatterns,
      `too many patterns: ${specs.length} given, the limit (maxPatterns) is ${resolved.maxPatterns}`,
      { code: "pattern_limit" },
    );
  }
  const patterns = specs.map((spec, index) => compileSpec(spec, index, resolved));
  return new Re2PatternSet(patterns, resolved.maxOutputLength);
}

function definedOnly(limits: PatternLimits): PatternLimits {
  return Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined));
}

function compileSpec(spec: PatternSpec, index: number, limits: Required<PatternLimits>): Re2Pattern {
  // Specs may come from plugin code through the sandbox, so their shape is checked rather than trusted.
  const source: unknown = spec?.source;
  if (typeof source !== "string") throw new PatternError(index, `source must be a string, got ${typeof source}`);
  if (source.length > limits.maxSourceLength) {
    throw new PatternError(
      index,
      `source is ${source.length} characters long, the limit (maxSourceLength) is ${limits.maxSourceLength}`,
      { code: "pattern_limit" },
    );
  }
  const flags = parseFlags(spec.flags);
  if ("problem" in flags) throw new PatternError(index, flags.problem);
  let pattern: Re2Pattern;
  try {
    pattern = new Re2Pattern(source, flags.inline);
  } catch (error) {
    throw new PatternError(index, describeSyntaxError(syntaxErrorOf(source, error)), { cause: error });
  }
  if (pattern.programSize > limits.maxProgramSize) {
    throw new PatternError(
      index,
      `pattern compiles to ${pattern.programSize} instructions, the limit (maxProgramSize) is ${limits.maxProgramSize}`,
      { code: "pattern_limit" },
    );
  }
  return pattern;
}

/**
 * The error to describe: the flags are compiled as an inline prefix, `(?i)`, which re2js would quote in the part of
 * the pattern it points at, so the source is compiled again without them to point into what the author wrote.
 */
function syntaxErrorOf(source: string, error: unknown): unknown {
  try {
    new Re2Pattern(source, "");
  } catch (bare) {
    return bare;
  }
  return error;
}

class Re2PatternSet implements PatternSet {
  readonly size: number;
  readonly programSize: number;
  readonly #patterns: readonly Re2Pattern[];
  /** Presence of several patterns in one DFA pass; undefined for zero or one pattern. */
  readonly #anyOf: AnyOf | undefined;
  readonly #maxOutputLength: number;

  constructor(patterns: readonly Re2Pattern[], maxOutputLength: number) {
    this.size = patterns.length;
    this.programSize = patterns.reduce((sum, pattern) => sum + pattern.programSize, 0);
    this.#patterns = patterns;
    this.#anyOf = patterns.length > 1 ? new AnyOf(patterns.map((pattern) => pattern.source)) : undefined;
    this.#maxOutputLength = maxOutputLength;
  }

  scan(text: string, maxMatches = Infinity): number[] {
    if (!(maxMatches >= 0)) throw new RangeError(`maxMatches must be 0 or more, got ${maxMatches}`);
    if (maxMatches === 0) return [];
    const live = this.#live(text);
    return live.length === 0 ? [] : scanLeftmost(this.#patterns, live, text, maxMatches);
  }

  test(text: string): boolean {
    if (this.#anyOf !== undefined) return this.#anyOf.test(text);
    return this.#patterns.length === 1 && this.#patterns[0]!.test(text);
  }

  replaceAll(text: string, replacement: string): string {
    const matches = this.scan(text);
    if (matches.length === 0) return text;
    const templates: (Replacement | undefined)[] = [];
    const input = re2Input(text);
    let out = "";
    let last = 0;
    for (let i = 0; i < matches.length; i += 3) {
      const start = matches[i]!;
      const end = matches[i + 1]!;
      const pattern = this.#patterns[matches[i + 2]!]!;
      const template = templates[matches[i + 2]!] ??= parseReplacement(replacement, pattern.groupCount, pattern.names);
      // Groups are found only when the template names one: a second, short search from the match's start.
      const groups = template.usesGroups ? pattern.find(input, start, text.length, pattern.groupCount) : undefined;
      if (groups !== undefined && (groups[0] !== start || groups[1] !== end)) {
        throw new Error(
          `Pattern search is inconsistent: [${start}, ${end}) found again as [${groups[0]}, ${groups[1]})`,
        );
      }
      const match = { start, end, groups };
      // What is built only grows, and each piece's length is known before it is built, so an oversized result is
      // refused before the piece that would make it so.
      this.#checkLength(out.length + (start - last) + expandedLength(template, text, match));
      out += text.slice(last, start) + expandReplacement(template, text, match);
      last = end;
    }
    this.#checkLength(out.length + text.length - last);
    return out + text.slice(last);
  }

  /** Indexes of the patterns that match somewhere in the text (one DFA pass). */
  #live(text: string): readonly number[] {
    if (this.#anyOf !== undefined) return this.#anyOf.which(text);
    return this.#patterns.length === 1 && this.#patterns[0]!.test(text) ? [0] : [];
  }

  #checkLength(length: number): void {
    if (length > this.#maxOutputLength) {
      throw new RangeError(
        `replaceAll result would be longer than ${this.#maxOutputLength} characters (maxOutputLength)`,
      );
    }
  }
}
