/**
 * Replacement templates, expanded as JavaScript's `String.prototype.replace` expands them (ECMA-262 GetSubstitution):
 * `$$` is `$`, `$&` the match, `` $` `` the text before it, `$'` the text after it, `$1`-`$99` a group (two digits
 * only when they name an existing group, so with one group `$10` is group 1 then "0"; an unmatched group is empty;
 * `$0` and a number past the last group stay as written), and `$<name>` a named group (empty when no group has that
 * name; `$<` stays as written when the pattern has no named groups at all). Any other `$` is literal.
 *
 * A template is parsed once per pattern it is used with, because what `$10` and `$<` mean depends on that pattern's
 * groups: in a set, the pattern that matched decides.
 */

/** The text before the match (`` $` ``). */
const BEFORE = -1;
/** The text after the match (`$'`). */
const AFTER = -2;

/** A parsed template: literal text, or a group number (0 for the whole match), or BEFORE or AFTER. */
export interface Replacement {
  readonly parts: readonly (string | number)[];
  /** Whether a part names a capturing group (so the match's groups must be found). */
  readonly usesGroups: boolean;
}

/** Parses a template for a pattern with `groupCount` groups and the given named groups (undefined when none). */
export function parseReplacement(
  template: string,
  groupCount: number,
  names: ReadonlyMap<string, number> | undefined,
): Replacement {
  const parts: (string | number)[] = [];
  let literal = "";
  let usesGroups = false;
  const reference = (part: number) => {
    if (literal !== "") parts.push(literal);
    literal = "";
    parts.push(part);
    if (part > 0) usesGroups = true;
  };
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf("$", i);
    if (dollar < 0 || dollar === template.length - 1) {
      literal += template.slice(i);
      break;
    }
    literal += template.slice(i, dollar);
    const next = template[dollar + 1]!;
    i = dollar + 2;
    if (next === "$") literal += "$";
    else if (next === "&") reference(0);
    else if (next === "`") reference(BEFORE);
    else if (next === "'") reference(AFTER);
    else if (next >= "0" && next <= "9") {
      const group = groupNumber(template, dollar + 1, groupCount);
      if (group === undefined) literal += "$" + next;
      else {
        reference(group.number);
        i = dollar + 1 + group.digits;
      }
    } else if (next === "<" && names !== undefined && template.indexOf(">", i) >= 0) {
      const close = template.indexOf(">", i);
      const group = names.get(template.slice(i, close));
      // A name no group has expands to nothing (GetSubstitution reads an undefined capture as "").
      if (group !== undefined) reference(group);
      i = close + 1;
    } else literal += "$" + next;
  }
  if (literal !== "") parts.push(literal);
  return { parts, usesGroups };
}

/** The group a `$n` or `$nn` at `at` (the first digit) names, and how many digits it uses; undefined when none. */
function groupNumber(template: string, at: number, groupCount: number): { number: number; digits: number } | undefined {
  const first = template.charCodeAt(at) - 48;
  const second = template.charCodeAt(at + 1) - 48;
  if (second >= 0 && second <= 9) {
    const both = first * 10 + second;
    if (both >= 1 && both <= groupCount) return { number: both, digits: 2 };
  }
  return first >= 1 && first <= groupCount ? { number: first, digits: 1 } : undefined;
}

/** One match of a pattern in the text: `text[start, end)`, and the groups when the template uses them. */
export interface ReplacedMatch {
  readonly start: number;
  readonly end: number;
  /** Start and end of group 0 (the match) and of every group (-1 for a group that took no part), or undefined. */
  readonly groups: readonly number[] | undefined;
}

/**
 * How long the replacement for one match will be, so that a caller can refuse a result before building it (a template
 * of many `` $` `` over a large text is quadratic).
 */
export function expandedLength(replacement: Replacement, text: string, match: ReplacedMatch): number {
  let length = 0;
  for (const part of replacement.parts) {
    if (typeof part === "string") length += part.length;
    else if (part === 0) length += match.end - match.start;
    else if (part === BEFORE) length += match.start;
    else if (part === AFTER) length += text.length - match.end;
    else {
      const start = match.groups![2 * part]!;
      if (start >= 0) length += match.groups![2 * part + 1]! - start;
    }
  }
  return length;
}

/** The replacement for one match. */
export function expandReplacement(replacement: Replacement, text: string, match: ReplacedMatch): string {
  let out = "";
  for (const part of replacement.parts) {
    if (typeof part === "string") out += part;
    else if (part === 0) out += text.slice(match.start, match.end);
    else if (part === BEFORE) out += text.slice(0, match.start);
    else if (part === AFTER) out += text.slice(match.end);
    else {
      const start = match.groups![2 * part]!;
      if (start >= 0) out += text.slice(start, match.groups![2 * part + 1]);
    }
  }
  return out;
}
