/**
 * tapline's own patterns, which plugins use by name (`host.patterns.builtin`)
 * and which run on the runtime's native `RegExp` engine.
 *
 * Why not RE2 like every other plugin pattern: re2js finds whether a text
 * matches about as fast as V8, but finding where costs it ~5 µs per match
 * (measured on a 1 KiB JSON body with 11 e-mail addresses: 68 µs for these
 * patterns in re2js, 38 µs for QuickJS's engine, 1.9 µs for V8's). Native
 * backtracking engines cannot be interrupted mid-match, so only patterns
 * tapline ships may run on them, and each of these is written so that no
 * text makes it backtrack more than a bounded number of steps per position:
 * every repetition is separated from the next by a character it cannot
 * match, and the lookbehinds look one or three characters back.
 * test/unit/plugins/builtin-patterns.test.ts runs each against adversarial
 * texts of 1 MiB.
 *
 * Each pattern consumes its first character before any lookbehind, so a
 * match is never preceded by what the lookbehind excludes. Checks that an
 * expression states badly (Luhn sums, digit counts, octet values, the local
 * part of an e-mail address) are left to the plugin, which gets the matches.
 */
import { PatternError } from "./pattern-error.ts";
import type { PatternSet } from "./pattern-set.ts";

/** The patterns by name, in the order a set tries them when several match at one place. */
export const BUILTIN_PATTERNS: Readonly<Record<string, string>> = Object.freeze({
  // header.payload.signature in base64url, the header starting with eyJ ('{"').
  jwt: "eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*",
  // A case-insensitive "Bearer" and an RFC 6750 b64token of at least 8 characters.
  bearer: "[Bb](?<![A-Za-z0-9][Bb])[Ee][Aa][Rr][Ee][Rr][ \\t]+[A-Za-z0-9._~+/-]{8,}=*",
  // From the @ (or its URL encoding %40, for query strings): the plugin adds the local part.
  email: "(?:@|%40)[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}(?![A-Za-z0-9-])",
  // 13-19 digits starting 2-6 (the card networks), single spaces or dashes between (the plugin checks Luhn).
  credit_card: "[2-6](?<![\\d-][2-6])(?:[ -]?\\d){12,18}(?!\\d)",
  // ddd-dd-dddd without the never-issued 000, 666, 9xx areas, 00 groups or 0000 serials.
  ssn: "\\d(?<![\\w-]\\d)\\d\\d(?<!000|666|9\\d\\d)-(?!00)\\d\\d-(?!0000)\\d{4}(?![\\w-])",
  // Four dot-separated runs of 1-3 digits, not part of a longer dotted run (the plugin checks each is at most 255).
  ipv4: "\\d(?<![\\w.]\\d)\\d{0,2}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}(?!\\.?\\d)",
  // +<country> and groups split by one space, dot or dash; (555) 123-4567; 1-555-123-4567; 555.123.4567
  // (the plugin checks for 10-15 digits).
  phone: "[+(\\d](?<![\\w+.-][+(\\d])(?:(?<=\\+)\\d+(?:[ .-]?\\(\\d+\\)|[ .-]\\d+)*" +
    "|(?<=\\()\\d{3}\\) ?\\d{3}[.-]\\d{4}" +
    "|(?<=1)[ .-](?:\\(\\d{3}\\) ?|\\d{3}[.-])\\d{3}[.-]\\d{4}" +
    "|(?<=\\d)\\d\\d[.-]\\d{3}[.-]\\d{4})(?![\\w-])",
});

/** Luhn checksum of a digit string. */
function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double && (d *= 2) > 9) d -= 9;
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function countDigits(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/** Characters of an e-mail address's local part (letters, digits, `._%+-`). */
function isLocal(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 ||
    c === 37 || c === 43 || c === 45;
}

/**
 * What a match must pass to count when redacting, beyond the expression:
 * checks an expression states badly. `email` matches from the `@`, and
 * counts only with a local part before it (taken back to the previous match).
 */
const CHECKS: Readonly<Record<string, (match: string) => boolean>> = {
  credit_card: (m) => luhn(m.replace(/[ -]/g, "")),
  ipv4: (m) => m.split(".").every((octet) => Number(octet) <= 255),
  phone: (m) => {
    const n = countDigits(m);
    return n >= 10 && n <= 15;
  },
};

/** A set of built-in patterns, which can also redact with their checks applied. */
export interface BuiltinSet extends PatternSet {
  readonly names: readonly string[];
  /**
   * The text with every match that passes its check replaced by `template`,
   * in which `{pattern}` stands for the pattern's name (an e-mail address
   * from its local part); the same string when nothing was replaced.
   */
  redact(text: string, template: string): string;
}

/**
 * A set of built-in patterns by name, matched as one alternation (each
 * pattern is one group; none has groups of its own).
 *
 * @throws PatternError naming an unknown pattern
 * @example
 * compileBuiltinSet(["email", "jwt"]).scan("to ada@example.com"); // [6, 18, 0]
 * compileBuiltinSet(["email"]).redact("to ada@example.com", "[{pattern}]"); // "to [email]"
 */
export function compileBuiltinSet(names: readonly string[]): BuiltinSet {
  names.forEach((name, index) => {
    if (!Object.hasOwn(BUILTIN_PATTERNS, name)) {
      const known = Object.keys(BUILTIN_PATTERNS).join(", ");
      throw new PatternError(index, `unknown built-in pattern ${JSON.stringify(name)} (known: ${known})`);
    }
  });
  const source = names.map((name) => `(${BUILTIN_PATTERNS[name]})`).join("|");
  const combined = new RegExp(names.length > 0 ? source : "(?!)", "g");
  const checks = names.map((name) => CHECKS[name]);
  const email = names.indexOf("email");
  const replacements = new Map<string, string[]>();
  return {
    names: [...names],
    redact(text: string, template: string): string {
      let replaced = replacements.get(template);
      if (!replaced) replacements.set(template, replaced = names.map((name) => template.replaceAll("{pattern}", name)));
      let out = "";
      let last = 0;
      combined.lastIndex = 0;
      for (let m = combined.exec(text); m !== null; m = combined.exec(text)) {
        let group = 1;
        while (m[group] === undefined) group++;
        const index = group - 1;
        let start = m.index;
        if (checks[index] && !checks[index]!(m[0])) continue;
        if (index === email) {
          while (start > last && isLocal(text.charCodeAt(start - 1))) start--;
          if (start === m.index) continue;
        }
        out += text.slice(last, start) + replaced[index]!;
        last = m.index + m[0].length;
      }
      return last === 0 && out === "" ? text : out + text.slice(last);
    },
    size: names.length,
    programSize: 0,
    scan(text: string, maxMatches = Infinity): number[] {
      const found: number[] = [];
      combined.lastIndex = 0;
      for (let m = combined.exec(text); m !== null && found.length < maxMatches * 3; m = combined.exec(text)) {
        let group = 1;
        while (m[group] === undefined) group++;
        found.push(m.index, m.index + m[0].length, group - 1);
      }
      return found;
    },
    test(text: string): boolean {
      combined.lastIndex = 0;
      return combined.test(text);
    },
    replaceAll(text: string, replacement: string): string {
      return text.replace(combined, replacement);
    },
  };
}
