/**
 * A line diff of two JSON values, for fixture failures: both are printed
 * with sorted keys and two-space indentation, and the lines that differ are
 * shown with `-` (expected) and `+` (actual) and two lines of context.
 */

/** The diff of `expected` against `actual`, or undefined when they are equal. */
export function jsonDiff(expected: unknown, actual: unknown): string | undefined {
  const a = pretty(expected).split("\n");
  const b = pretty(actual).split("\n");
  if (a.join("\n") === b.join("\n")) return undefined;
  const ops = diffLines(a, b);
  const keep = new Set<number>();
  ops.forEach((op, i) => {
    if (op.kind === " ") return;
    for (let j = Math.max(0, i - 2); j <= Math.min(ops.length - 1, i + 2); j++) keep.add(j);
  });
  const out: string[] = [];
  let skipped = false;
  ops.forEach((op, i) => {
    if (!keep.has(i)) {
      if (!skipped) out.push("  ...");
      skipped = true;
      return;
    }
    skipped = false;
    out.push(`${op.kind} ${op.line}`);
  });
  return out.join("\n");
}

/** JSON with object keys sorted, so key order never shows as a difference. */
function pretty(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) ?? "undefined";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

/** Longest-common-subsequence line diff (fixture outputs are small: quadratic is fine up to a bound). */
function diffLines(a: string[], b: string[]): { kind: " " | "-" | "+"; line: string }[] {
  if (a.length * b.length > 4_000_000) {
    return [...a.map((line) => ({ kind: "-" as const, line })), ...b.map((line) => ({ kind: "+" as const, line }))];
  }
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: { kind: " " | "-" | "+"; line: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push({ kind: " ", line: a[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push({ kind: "-", line: a[i++]! });
    else out.push({ kind: "+", line: b[j++]! });
  }
  while (i < a.length) out.push({ kind: "-", line: a[i++]! });
  while (j < b.length) out.push({ kind: "+", line: b[j++]! });
  return out;
}
