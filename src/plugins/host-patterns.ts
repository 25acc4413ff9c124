/**
 * `host.patterns` as the host serves it: pattern sets a plugin compiles once
 * (in `setup`) and then runs over text from its hooks, in a linear-time
 * engine (patterns/pattern-set.ts, RE2 semantics) on the host instead of in
 * QuickJS, whose backtracking engine is 8-40× slower here and exponential on
 * patterns such as `(a+)+$`.
 *
 * `host.patterns.builtin(names)` makes a set of tapline's own patterns
 * (patterns/builtin-patterns.ts), which run on the runtime's native engine.
 *
 * Every operation answers a string for the lean host function (see
 * quickjs-bridge.ts): `=` + the value, or `!` + an error message that the
 * sandbox throws as an Error in the plugin.
 */
import { compileBuiltinSet } from "./patterns/builtin-patterns.ts";
import { compilePatternSet, type PatternSet, type PatternSpec } from "./patterns/pattern-set.ts";

/** Compiled sets one sandbox may hold: a plugin compiles in setup, not per call. */
export const MAX_PATTERN_SETS = 64;
/** Matches one `scan` may return. */
export const MAX_SCAN_MATCHES = 100_000;

/** The pattern sets of one sandbox. */
export class HostPatterns {
  #sets: PatternSet[] = [];

  /** Forgets every set (a rebuilt context compiles again in its setup). */
  reset(): void {
    this.#sets = [];
  }

  /** How many sets exist: a mark to `truncate` back to. */
  get size(): number {
    return this.#sets.length;
  }

  /** Forgets the sets made after `mark` (those of an earlier setup call, when setup runs again). */
  truncate(mark: number): void {
    this.#sets.length = Math.min(this.#sets.length, mark);
  }

  /**
   * Runs one operation: `compile` (JSON list of specs), `builtin` (JSON list of names), `scan` / `test`
   * (set id, text), `replace` (set id, text, replacement).
   */
  run(args: readonly string[]): string {
    const [op, first, second, third] = args;
    try {
      switch (op) {
        case "compile":
          return "=" + this.#compile(first ?? "");
        case "builtin":
          return "=" + this.#add(compileBuiltinSet(namesOf(first ?? "")));
        case "scan": {
          const found = this.#set(first).scan(second ?? "", MAX_SCAN_MATCHES + 1);
          if (found.length > MAX_SCAN_MATCHES * 3) {
            throw new Error(`host.patterns.scan: more than ${MAX_SCAN_MATCHES} matches`);
          }
          return "=" + found.join(",");
        }
        case "test":
          return this.#set(first).test(second ?? "") ? "=1" : "=";
        case "replace":
          return "=" + this.#set(first).replaceAll(second ?? "", third ?? "");
        default:
          return `!host.patterns: unknown operation ${JSON.stringify(op)}`;
      }
    } catch (error) {
      return "!" + (error as Error).message;
    }
  }

  #compile(json: string): number {
    this.#checkRoom();
    const list: unknown = JSON.parse(json);
    const specs: PatternSpec[] = (Array.isArray(list) ? list : [list]).map((item, i) => {
      if (typeof item === "string") return { source: item };
      if (typeof item === "object" && item !== null && typeof (item as PatternSpec).source === "string") {
        const { source, flags } = item as PatternSpec;
        return flags === undefined ? { source } : { source, flags: String(flags) };
      }
      throw new Error(`host.patterns.compile: patterns[${i}] must be a string or {source, flags}`);
    });
    return this.#add(compilePatternSet(specs));
  }

  #checkRoom(): void {
    if (this.#sets.length >= MAX_PATTERN_SETS) {
      throw new Error(`host.patterns: at most ${MAX_PATTERN_SETS} pattern sets per plugin (compile them in setup)`);
    }
  }

  #add(set: PatternSet): number {
    this.#checkRoom();
    this.#sets.push(set);
    return this.#sets.length - 1;
  }

  /**
   * The set with this id.
   *
   * @throws Error naming the id when there is none
   */
  get(id: unknown): PatternSet {
    return this.#set(String(id));
  }

  #set(id: string | undefined): PatternSet {
    const set = this.#sets[Number(id)];
    if (!set) throw new Error(`host.patterns: no pattern set ${id} (use the id compile returned)`);
    return set;
  }
}

/** The JSON list of names given to `host.patterns.builtin`. */
function namesOf(json: string): string[] {
  const list: unknown = JSON.parse(json);
  const names = Array.isArray(list) ? list : [list];
  if (!names.every((name) => typeof name === "string")) {
    throw new Error('host.patterns.builtin: give a list of pattern names such as ["email", "jwt"]');
  }
  return names as string[];
}
