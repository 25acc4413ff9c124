/**
 * The error a pattern set raises when one of its patterns cannot be compiled, and the translation of re2js's syntax
 * errors into messages that say what is wrong (RE2 has no lookaround or backreferences, and its escapes differ a little
 * from JavaScript's), since plugin authors write JavaScript regular expressions and see these messages.
 */
import { TaplineError } from "../../shared/errors.ts";

export { describeSyntaxError } from "../../shared/regex-syntax.ts";

/**
 * A pattern that cannot be compiled: bad syntax, a construct RE2 does not have, or a limit exceeded.
 *
 * @example
 * ```ts
 * try {
 *   compilePatternSet([{ source: "[0-9]+" }, { source: "(?<=id=)[0-9]+" }]);
 * } catch (error) {
 *   // error.index === 1, error.message ===
 *   // "patterns[1]: invalid regular expression: lookbehind is not supported in linear-time patterns: `(?<=id=)[0-9]+`"
 * }
 * ```
 */
export class PatternError extends TaplineError {
  /** Position of the failing spec in the list given to `compilePatternSet` (for a count limit, the first one over). */
  readonly index: number;

  constructor(index: number, problem: string, options: { code?: string; cause?: unknown } = {}) {
    super(options.code ?? "pattern_invalid", `patterns[${index}]: ${problem}`, { exitCode: 78, cause: options.cause });
    this.name = "PatternError";
    this.index = index;
  }
}
