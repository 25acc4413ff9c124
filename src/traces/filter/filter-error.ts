/**
 * A filter expression that cannot be parsed or compiled, with the column
 * (1-based) where the problem is, so a CLI can point at it and an API can
 * answer 400 with it.
 */
import { TaplineError } from "../../shared/errors.ts";

/**
 * A filter that is not valid.
 *
 * @example
 * ```ts
 * try {
 *   compileFilter("~s 5xx & (~m POST");
 * } catch (error) {
 *   // error.column === 18, error.message ===
 *   // 'Invalid filter at column 18: expected ")" to close the "(" at column 10, found the end of the filter'
 * }
 * ```
 */
export class FilterError extends TaplineError {
  /** 1-based column of the problem in the filter text. */
  readonly column: number;

  constructor(column: number, problem: string) {
    super("filter_invalid", `Invalid filter at column ${column}: ${problem}`, { exitCode: 64 });
    this.name = "FilterError";
    this.column = column;
  }
}
