/**
 * `host.text`: rewriters a plugin builds once (in `setup`) and applies from a
 * body hook to the body being handled, which stays on the host. A body hook
 * that only replaces text would otherwise pay for the body twice (into
 * QuickJS and back, ~20 µs for 1 KiB here) plus QuickJS's slow string work;
 * on the host a literal or compiled-pattern replacement over 1 KiB costs a
 * few µs. Answers "=" + value or "!" + an error message, as host.patterns.
 */
import type { HostPatterns } from "./host-patterns.ts";
import type { PatternSet } from "./patterns/pattern-set.ts";

/** The text a body hook call is about, and what host.text made of it. */
export interface TextSubject {
  readonly text: string;
  /** The text after `host.text.rewrite`, when it changed. */
  changed?: string;
}

/** One step of a rewriter: a literal or a compiled set, and what replaces its matches. */
type Step = { literal: string; replacement: string } | { set: PatternSet; replacement: string };

/** Rewriters one sandbox may hold. */
const MAX_REWRITERS = 256;

/** The rewriters of one sandbox, and the text of the call under way. */
export class HostText {
  readonly #patterns: HostPatterns;
  #rewriters: Step[][] = [];
  /** Set by the sandox for the length of a body hook call. */
  subject: TextSubject | undefined;

  constructor(patterns: HostPatterns) {
    this.#patterns = patterns;
  }

  reset(): void {
    this.#rewriters = [];
  }

  get size(): number {
    return this.#rewriters.length;
  }

  truncate(mark: number): void {
    this.#rewriters.length = Math.min(this.#rewriters.length, mark);
  }

  /** Runs one operation: `rewriter` (JSON list of steps) or `rewrite` (rewriter id). */
  run(args: readonly string[]): string {
    const [op, first] = args;
    try {
      if (op === "rewriter") return "=" + this.#rewriter(first ?? "");
      if (op === "rewrite") return this.#rewrite(first) ? "=1" : "=";
      return `!host.text: unknown operation ${JSON.stringify(op)}`;
    } catch (error) {
      return "!" + (error as Error).message;
    }
  }

  #rewriter(json: string): number {
    if (this.#rewriters.length >= MAX_REWRITERS) {
      throw new Error(`host.text.rewriter: at most ${MAX_REWRITERS} rewriters per plugin (build them in setup)`);
    }
    const list: unknown = JSON.parse(json);
    if (!Array.isArray(list)) throw new Error("host.text.rewriter: give a list of {literal | patterns, replacement}");
    const steps = list.map((step: Record<string, unknown>, i): Step => {
      if (typeof step !== "object" || step === null || typeof step.replacement !== "string") {
        throw new Error(`host.text.rewriter: steps[${i}] needs a string replacement`);
      }
      if (typeof step.literal === "string" && step.literal !== "") {
        return { literal: step.literal, replacement: step.replacement };
      }
      if (step.patterns !== undefined) return { set: this.#patterns.get(step.patterns), replacement: step.replacement };
      throw new Error(`host.text.rewriter: steps[${i}] needs a non-empty literal or a patterns set id`);
    });
    this.#rewriters.push(steps);
    return this.#rewriters.length - 1;
  }

  #rewrite(id: string | undefined): boolean {
    const steps = this.#rewriters[Number(id)];
    if (!steps) throw new Error(`host.text: no rewriter ${id} (use the id host.text.rewriter returned)`);
    const subject = this.subject;
    if (!subject) throw new Error("host.text.rewrite: only during onRequestBody and onResponseBody");
    const before = subject.changed ?? subject.text;
    let text = before;
    for (const step of steps) {
      text = "literal" in step
        ? text.replaceAll(step.literal, () => step.replacement)
        : step.set.replaceAll(text, step.replacement);
    }
    if (text === before) return false;
    subject.changed = text;
    return true;
  }
}
