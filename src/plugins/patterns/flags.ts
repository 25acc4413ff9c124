/**
 * The `flags` of a pattern spec, written as in JavaScript (`"gi"`), turned into RE2's inline flags (`i`, `m`, `s`).
 *
 * Accepted: `i` (case-insensitive), `m` (`^` and `$` at line breaks), `s` (`.` matches `\n`), and `u` and `g`, which
 * change nothing: RE2 always matches whole code points (what JavaScript's `u` flag does), and every pattern set finds
 * all matches (what `g` asks for). Anything else (`y`, `d`, `v`, a repeated flag) is refused rather than ignored, so a
 * pattern never silently means something other than what its author wrote.
 */

/** The RE2 inline flags for a spec's `flags`, e.g. `"is"` for `"gis"`; a problem is returned as a message. */
export function parseFlags(flags: unknown): { inline: string } | { problem: string } {
  if (flags === undefined) return { inline: "" };
  if (typeof flags !== "string") return { problem: `flags must be a string, got ${typeof flags}` };
  let inline = "";
  const seen = new Set<string>();
  for (const flag of flags) {
    if (seen.has(flag)) return { problem: `flag "${flag}" is given twice in "${flags}"` };
    seen.add(flag);
    if (flag === "i" || flag === "m" || flag === "s") inline += flag;
    else if (flag !== "u" && flag !== "g") {
      return { problem: `unsupported flag "${flag}" in "${flags}" (supported: i, m, s; g and u are accepted)` };
    }
  }
  return { inline };
}
