/**
 * `host.record` as the host serves it: scrubbers a plugin builds once (in
 * `setup`) and applies from `onCapture` to the record being captured, which
 * stays on the host (record-scrubber.ts). Answers, like host.patterns, "="
 * + value or "!" + an error message the sandbox throws.
 */
import type { HostPatterns } from "./host-patterns.ts";
import { type BuiltinSet } from "./patterns/builtin-patterns.ts";
import { RecordScrubber, SCRUB_TARGETS, type ScrubTarget } from "./record-scrubber.ts";

/** The record an `onCapture` call is about, and what host.record made of it. */
export interface RecordSubject {
  readonly record: Record<string, unknown>;
  /** The record after `host.record.scrub`, when it changed anything. */
  changed?: Record<string, unknown>;
}

/** Scrubbers one sandbox may hold. */
const MAX_SCRUBBERS = 16;

/** The scrubbers of one sandbox, and the records of the call under way. */
export class HostRecord {
  readonly #patterns: HostPatterns;
  #scrubbers: RecordScrubber[] = [];
  /** Set by the sandbox for the length of an onCapture (one) or onCaptureBatch call. */
  subjects: readonly RecordSubject[] | undefined;

  constructor(patterns: HostPatterns) {
    this.#patterns = patterns;
  }

  /** Forgets every scrubber (a rebuilt context builds them again in its setup). */
  reset(): void {
    this.#scrubbers = [];
  }

  /** How many scrubbers exist: a mark to `truncate` back to. */
  get size(): number {
    return this.#scrubbers.length;
  }

  /** Forgets the scrubbers made after `mark` (those of an earlier setup call). */
  truncate(mark: number): void {
    this.#scrubbers.length = Math.min(this.#scrubbers.length, mark);
  }

  /**
   * Runs one operation: `scrubber` (JSON spec) or `scrub` (scrubber id, and
   * the index of one record of a batch, "" for all of them).
   */
  run(args: readonly string[]): string {
    const [op, first, second] = args;
    try {
      if (op === "scrubber") return "=" + this.#scrubber(first ?? "");
      if (op === "scrub") return this.#scrub(first, second ?? "") ? "=1" : "=";
      return `!host.record: unknown operation ${JSON.stringify(op)}`;
    } catch (error) {
      return "!" + (error as Error).message;
    }
  }

  #scrubber(json: string): number {
    if (this.#scrubbers.length >= MAX_SCRUBBERS) {
      throw new Error(`host.record.scrubber: at most ${MAX_SCRUBBERS} scrubbers per plugin (build them in setup)`);
    }
    const spec = JSON.parse(json) as Record<string, unknown>;
    const fail = (what: string): never => {
      throw new Error(`host.record.scrubber: ${what}`);
    };
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
      fail("give an object such as {headers: [...]}");
    }
    const strings = (value: unknown, field: string): string[] => {
      if (value === undefined) return [];
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
        fail(`${field} must be a list of strings`);
      }
      return value as string[];
    };
    const where = spec.in === undefined ? [...SCRUB_TARGETS] : strings(spec.in, "in");
    const unknown = where.filter((target) => !(SCRUB_TARGETS as readonly string[]).includes(target));
    if (unknown.length > 0) {
      fail(`unknown target ${JSON.stringify(unknown[0])} in \`in\` (known: ${SCRUB_TARGETS.join(", ")})`);
    }
    const builtin = spec.builtin === undefined || spec.builtin === null ? undefined : this.#patterns.get(spec.builtin);
    if (builtin && !("redact" in builtin)) fail("builtin must be a set made by host.patterns.builtin");
    const custom = spec.custom === undefined ? [] : spec.custom;
    if (!Array.isArray(custom)) fail("custom must be a list of {patterns, replacement}");
    this.#scrubbers.push(
      new RecordScrubber({
        headers: strings(spec.headers, "headers"),
        headerValue: typeof spec.header_value === "string" ? spec.header_value : "[REDACTED]",
        builtin: builtin as BuiltinSet | undefined,
        template: typeof spec.template === "string" ? spec.template : "[REDACTED:{pattern}]",
        custom: (custom as Record<string, unknown>[]).map((rule, i) => {
          if (typeof rule?.replacement !== "string") fail(`custom[${i}].replacement must be a string`);
          return { set: this.#patterns.get(rule.patterns), replacement: rule.replacement as string };
        }),
        in: new Set(where as ScrubTarget[]),
      }),
    );
    return this.#scrubbers.length - 1;
  }

  /** Scrubs one record of the call (`index`) or all of them (""); true when one changed. */
  #scrub(id: string | undefined, index: string): boolean {
    const scrubber = this.#scrubbers[Number(id)];
    if (!scrubber) throw new Error(`host.record: no scrubber ${id} (use the id host.record.scrubber returned)`);
    const subjects = this.subjects;
    if (!subjects) throw new Error("host.record.scrub: only during onCapture or onCaptureBatch");
    let targets = subjects;
    if (index !== "") {
      const subject = subjects[Number(index)];
      if (!/^\d+$/.test(index) || !subject) {
        throw new Error(`host.record.scrub: no record ${index} in this call (it has ${subjects.length})`);
      }
      targets = [subject];
    }
    let changed = false;
    for (const subject of targets) {
      const out = scrubber.scrub(subject.changed ?? subject.record);
      if (out === undefined) continue;
      subject.changed = out;
      changed = true;
    }
    return changed;
  }
}
