/**
 * Go-style durations (`time.ParseDuration`): `100ms`, `30s`, `5m`, `1h30m`, `1.5s`.
 * A unit is required (a bare `30` is ambiguous), except for `0`.
 */
import { shown } from "../shared/shown-value.ts";

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART_RE = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/**
 * Parse a duration into milliseconds (fractions kept, e.g. `1500us` is 1.5).
 *
 * @example parseDuration("1h30m") // 5400000
 * @throws Error naming the bad value and the accepted units.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === "0") return 0;
  const bad = () =>
    new Error(
      `Invalid duration ${shown(text)}: expected a number with a unit such as 100ms, 30s, 5m or 1h30m`,
    );
  if (trimmed === "") throw bad();
  let total = 0;
  PART_RE.lastIndex = 0;
  while (PART_RE.lastIndex < trimmed.length) {
    const match = PART_RE.exec(trimmed);
    if (!match) throw bad();
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  if (!Number.isFinite(total)) throw bad();
  return total;
}
