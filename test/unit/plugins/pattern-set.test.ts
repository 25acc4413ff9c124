/**
 * Pattern sets (src/plugins/patterns/): results equal V8's RegExp (with the `u` flag) on generated corpora for
 * patterns whose meaning is the same in both engines; patterns that would make V8 backtrack for ever run in linear
 * time; refused patterns name their index and what is wrong.
 */
import assert from "node:assert/strict";
import { seededRandom } from "../../fixtures/seeded-random.ts";
import { test } from "node:test";
import {
  compilePatternSet,
  DEFAULT_PATTERN_LIMITS,
  PatternError,
  type PatternSpec,
} from "../../../src/plugins/patterns/pattern-set.ts";

/**
 * Characters both engines treat alike. No `\r`, U+2028 or U+2029: RE2 breaks lines only at `\n` (for `.`, and for `^`
 * and `$` with `m`), JavaScript at all four.
 */
/** Also the Kelvin sign and the long s, which fold to k and s, and the capital sharp s, which folds to ß. */
const COMMON = [..."abcxyzABXZ0123456789 -._@=\n\té€😀ß\u212A\u017F\u1E9E"];

/** 200 strings of 0-60 tokens: single characters and the pattern's own words, so that matches are frequent. */
function corpus(seed: number, words: readonly string[]): string[] {
  const random = seededRandom(seed);
  const tokens = [...COMMON, ...words, ...words];
  const texts: string[] = [];
  for (let i = 0; i < 200; i++) {
    let text = "";
    const length = Math.floor(random() * 61);
    for (let j = 0; j < length; j++) text += tokens[Math.floor(random() * tokens.length)];
    texts.push(text);
  }
  return texts;
}

/** What V8 finds: [start, end, 0, ...] for each match of `matchAll` (which advances past empty matches as `u` says). */
function v8Scan(regexp: RegExp, text: string): number[] {
  return [...text.matchAll(regexp)].flatMap((match) => [match.index, match.index + match[0].length, 0]);
}

interface Case {
  name: string;
  spec: PatternSpec;
  /** Words mixed into the corpus. */
  words: string[];
  /** Replacement template compared with `String.prototype.replace`. */
  replacement: string;
}

const CASES: Case[] = [
  { name: "literal", spec: { source: "needle" }, words: ["needle", "need", "nee"], replacement: "[$&]" },
  {
    name: "classes and quantifiers",
    spec: { source: "[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\\.[0-9]+)?" },
    words: ["3.14", "x1", "_"],
    replacement: "<$&>",
  },
  {
    name: "alternation, leftmost-first",
    spec: { source: "cat|category|dog|do" },
    words: ["category", "cat", "dog", "do"],
    replacement: "{$&}",
  },
  { name: "anchors without m", spec: { source: "^ab|yz$|^$" }, words: ["ab", "yz"], replacement: "#" },
  {
    name: "anchored at the start",
    spec: { source: "^(?:[a-c]+(x|y)?|$)" },
    words: ["abx", "cy", "ab"],
    replacement: "<$1>",
  },
  {
    name: "anchors with m",
    spec: { source: "^[a-c]+|[x-z]+$", flags: "m" },
    words: ["ab\n", "\nyz", "abc"],
    replacement: "($&)",
  },
  {
    name: "case-insensitive",
    spec: { source: "straße|k+|[a-c]s", flags: "i" },
    words: ["STRASSE", "Straße", "STRA\u1E9EE", "K\u212A", "AS", "a\u017F"],
    replacement: "<$&>",
  },
  {
    name: "groups and $1",
    spec: { source: "([a-z]+)@([a-z]+)(\\.com)?" },
    words: ["ann@example", ".com", "bob@x"],
    replacement: "$2 at $1$3 [$&] $$ $4 $0",
  },
  {
    name: "named groups",
    spec: { source: "(?<key>[a-z]+)=(?<value>[0-9]+)" },
    words: ["key=1", "a=", "=42"],
    replacement: "$<value>:$<key>:$<nope>:$1",
  },
  {
    name: "e-mail",
    spec: { source: "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}" },
    words: ["ann@example.com", "x.y+z@mail.example.org", "@a.bc", "a@b"],
    replacement: "[email]",
  },
  {
    name: "card digits {12,18}",
    spec: { source: "[2-6](?:[ -]?[0-9]){12,18}" },
    words: ["4111 1111 1111 1111", "5500-0000-0000-0004", "4242424242424", "12"],
    replacement: "[card]",
  },
  {
    name: "non-ASCII",
    spec: { source: "[é€😀]+|.😀|ß", flags: "s" },
    words: ["é€", "😀😀", "x😀"],
    replacement: "<$&>",
  },
  { name: "empty matches", spec: { source: "x*|€?" }, words: ["xx", "€"], replacement: "-" },
];

for (const [n, c] of CASES.entries()) {
  test(`scan and replaceAll equal V8 with the u flag: ${c.name}`, () => {
    const set = compilePatternSet([c.spec]);
    const flags = (c.spec.flags ?? "") + "gu";
    const regexp = new RegExp(c.spec.source, flags);
    let matched = 0;
    for (const text of corpus(1000 + n, c.words)) {
      const expected = v8Scan(regexp, text);
      if (expected.length > 0) matched++;
      const where = `${JSON.stringify(c.spec.source)} on ${JSON.stringify(text)}`;
      assert.deepEqual(set.scan(text), expected, `scan ${where}`);
      assert.equal(set.test(text), expected.length > 0, `test ${where}`);
      assert.equal(set.replaceAll(text, c.replacement), text.replace(regexp, c.replacement), `replaceAll ${where}`);
    }
    assert.ok(matched >= 20, `the corpus exercises the pattern (${matched} of 200 texts match)`);
  });
}

test("a set finds what one V8 alternation finds: leftmost first, an earlier pattern wins at the same start", () => {
  const specs = [2, 7, 9, 10, 12].map((i) => CASES[i]!.spec);
  const set = compilePatternSet(specs);
  // One capturing group around each pattern tells which matched; the groups inside each are counted to skip them.
  const alternation = new RegExp(specs.map((spec) => `(${spec.source})`).join("|"), "gu");
  let next = 1;
  const outer = specs.map((spec) => {
    const group = next;
    next += 1 + new RegExp(`|${spec.source}`, "u").exec("")!.length - 1;
    return group;
  });
  const words = CASES.flatMap((c) => c.words);
  for (const text of corpus(7, words)) {
    const expected = [...text.matchAll(alternation)].flatMap((match) => {
      const index = outer.findIndex((group) => match[group] !== undefined);
      return [match.index, match.index + match[0].length, index];
    });
    assert.deepEqual(set.scan(text), expected, `scan on ${JSON.stringify(text)}`);
    assert.equal(set.replaceAll(text, "<$&>"), text.replace(alternation, "<$&>"));
    assert.equal(set.test(text), expected.length > 0);
  }
});

test("where RE2 and V8 differ, a set follows RE2 (listed in pattern-set.ts)", () => {
  const one = (source: string, flags?: string) => compilePatternSet([{ source, flags }]);
  // `.` excludes only \n; V8 also excludes \r, U+2028 and U+2029.
  assert.equal(one("a.b").test("a\rb"), true);
  assert.equal(/a.b/u.test("a\rb"), false);
  assert.equal(one("a.b").test("a\u2028b"), true);
  // With m, ^ and $ break lines at \n only.
  assert.equal(one("a$", "m").test("a\r\nb"), false);
  assert.equal(/a$/mu.test("a\r\nb"), true);
  // \s is ASCII whitespace [\t\n\f\r ]; V8's also has \v, U+00A0, U+FEFF and the other Unicode spaces.
  assert.equal(one("\\s").test("\v\u00a0\ufeff"), false);
  assert.equal(/\s/u.test("\v"), true);
  // \b looks at ASCII word characters; with i and u, V8 also counts the Kelvin sign and the long s.
  assert.equal(one("\\bs", "i").test("\u212As"), true);
  assert.equal(/\bs/iu.test("\u212As"), false);
  // Syntax: RE2 reads []a] as a class of ] and a, has no [^] or [\b], and writes code points \x{...}.
  assert.deepEqual(one("[]a]+").scan("x]a"), [1, 3, 0]);
  assert.equal(one("\\x{1F600}").test("😀"), true);
});

test("offsets are UTF-16 code units", () => {
  const set = compilePatternSet([{ source: "é" }, { source: "😀+" }, { source: "b." }]);
  const text = "aé€😀😀b😀 é";
  assert.deepEqual(set.scan(text), [1, 2, 0, 3, 7, 1, 7, 10, 2, 11, 12, 0]);
  assert.equal(text.slice(3, 7), "😀😀");
});

test("each pattern's replacement uses its own groups; $< is literal for a pattern without named groups", () => {
  const set = compilePatternSet([
    { source: "(?<user>[a-z]+)@example\\.com" },
    { source: "token=([0-9a-f]+)" },
    { source: "id-[0-9]+" },
  ]);
  const text = "ann@example.com token=beef id-42";
  assert.equal(
    set.replaceAll(text, "[$1|$<user>|$&]"),
    "[ann|ann|ann@example.com] [beef|$<user>|token=beef] [$1|$<user>|id-42]",
  );
  assert.equal(set.replaceAll(text, "$$"), "$ $ $");
});

test("replacement templates expand as String.prototype.replace expands them", () => {
  const sources = ["x", "(x)(y)?", "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)", "(?<first>x)(?<second>y)?", "(?<n>x)|(?<m>é)"];
  const templates = [
    "$1$2$3|$0|$00|$01|$09|$10|$11|$12|$99|$100",
    "$&|$$|$$$|$|$x|$`|$'",
    "$<first>|$<second>|$<none>|$<|$<first|$<>",
    "$1$<n>$<m>$2",
  ];
  for (const source of sources) {
    const set = compilePatternSet([{ source }]);
    const regexp = new RegExp(source, "gu");
    for (const text of ["-x-xy-", "abcdefghijk.abcdefghijk", "é x"]) {
      for (const template of templates) {
        assert.equal(set.replaceAll(text, template), text.replace(regexp, template), `${source} ${template} ${text}`);
      }
    }
  }
});

test("scan stops at maxMatches; an empty set matches nothing", () => {
  const set = compilePatternSet([{ source: "[0-9]" }]);
  assert.deepEqual(set.scan("1 2 3 4", 2), [0, 1, 0, 2, 3, 0]);
  assert.deepEqual(set.scan("1 2 3 4", 0), []);
  assert.throws(() => set.scan("1", -1), RangeError);
  assert.equal(set.size, 1);
  assert.equal(set.programSize, 3);
  assert.equal(compilePatternSet([{ source: "[0-9]" }, { source: "[0-9]{10}" }]).programSize, 15);
  const empty = compilePatternSet([]);
  assert.equal(empty.size, 0);
  assert.equal(empty.programSize, 0);
  assert.deepEqual(empty.scan("abc"), []);
  assert.equal(empty.test("abc"), false);
  assert.equal(empty.replaceAll("abc", "x"), "abc");
});

test("test() works when the patterns cannot be joined into one alternation", () => {
  // Two patterns naming a group alike, and a pattern that ends inside \Q...: the set answers instead.
  const named = compilePatternSet([{ source: "(?<v>a+)" }, { source: "(?<v>b+)" }]);
  assert.equal(named.test("xxbb"), true);
  assert.equal(named.test("xyz"), false);
  assert.equal(named.replaceAll("aa-bb", "<$<v>>"), "<aa>-<bb>");
  const quoted = compilePatternSet([{ source: "\\Qa.b" }, { source: "c" }]);
  assert.equal(quoted.test("a.b"), true);
  assert.equal(quoted.test("axb"), false);
  assert.deepEqual(quoted.scan("c a.b"), [0, 1, 1, 2, 5, 0]);
});

test("replaceAll refuses a result longer than maxOutputLength", () => {
  const set = compilePatternSet([{ source: "" }], { maxOutputLength: 1000 });
  assert.equal(set.replaceAll("a".repeat(10), "-").length, 21);
  // Each empty match inserts the text before it: quadratic, refused before it is built.
  assert.throws(() => set.replaceAll("a".repeat(100), "$`"), /longer than 1000 characters \(maxOutputLength\)/);
});

test("hostile patterns run in linear time", () => {
  const set = compilePatternSet([{ source: "(a+)+$" }]);
  const text = "a".repeat(5000) + "!";
  let started = performance.now();
  assert.deepEqual(set.scan(text), []);
  assert.equal(set.test(text), false);
  assert.equal(set.replaceAll(text, "x"), text);
  // V8 would take about 2^5000 steps for this (it would not finish); RE2 visits each (instruction, position) pair at
  // most once. The bound is loose so a loaded machine does not fail it.
  assert.ok(performance.now() - started < 2000, `(a+)+$ on 5000 a's and ! took ${performance.now() - started} ms`);

  const megabyte = "a".repeat(1 << 20) + "!";
  started = performance.now();
  assert.deepEqual(set.scan(megabyte), []);
  assert.ok(performance.now() - started < 2000, `1 MiB scan took ${performance.now() - started} ms`);
});

test("a position search over 1 MiB takes time proportional to the text", () => {
  // A match that spans the whole text makes the slower position search (not only the DFA) run over all of it.
  const set = compilePatternSet([
    { source: "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}" },
    { source: "(a+)+$" },
  ]);
  const timed = (size: number) => {
    const text = "a".repeat(size) + "@example.com";
    const started = performance.now();
    assert.deepEqual(set.scan(text), [0, text.length, 0]);
    return performance.now() - started;
  };
  timed(1 << 14); // warm up
  const quarter = timed(1 << 18);
  const whole = timed(1 << 20);
  assert.ok(whole < 2000, `1 MiB took ${whole} ms`);
  assert.ok(whole < 12 * quarter + 50, `1 MiB took ${whole} ms, 256 KiB ${quarter} ms: not linear`);
});

function refusal(specs: readonly PatternSpec[], limits?: Parameters<typeof compilePatternSet>[1]): PatternError {
  try {
    compilePatternSet(specs, limits);
  } catch (error) {
    assert.ok(error instanceof PatternError, `not a PatternError: ${error}`);
    return error;
  }
  assert.fail("the patterns compiled");
}

test("refused patterns name their index and what is wrong", () => {
  const ok = { source: "ok" };
  const syntax = refusal([ok, { source: "a(b" }]);
  assert.equal(syntax.index, 1);
  assert.equal(syntax.code, "pattern_invalid");
  assert.equal(syntax.message, "patterns[1]: invalid regular expression: missing closing ): `a(b`");
  assert.equal(
    refusal([ok, ok, { source: "(?<=user=)[a-z]+", flags: "i" }]).message,
    "patterns[2]: invalid regular expression: lookbehind is not supported in linear-time patterns: `(?<=user=)[a-z]+`",
  );
  assert.match(refusal([{ source: "x(?<!a)b" }]).message, /lookbehind is not supported/);
  assert.match(refusal([{ source: "a(?=b)" }]).message, /lookahead is not supported in linear-time patterns/);
  assert.match(refusal([{ source: "(a)\\1" }]).message, /backreferences are not supported in linear-time patterns/);
  assert.match(refusal([{ source: "\\u00e9" }]).message, /write a code point as \\x\{263A\}/);
  assert.match(refusal([{ source: "a++" }]).message, /possessive quantifiers are not supported/);
  assert.match(refusal([{ source: "a{1001}" }]).message, /invalid repeat count/);
  assert.match(refusal([{ source: "a", flags: "y" }]).message, /^patterns\[0\]: unsupported flag "y"/);
  assert.match(refusal([{ source: "a", flags: "ii" }]).message, /flag "i" is given twice/);
  assert.match(refusal([{ source: 1 as unknown as string }]).message, /^patterns\[0\]: source must be a string/);
});

test("limits have defaults, can be set, and errors name them", () => {
  assert.deepEqual(DEFAULT_PATTERN_LIMITS, {
    maxPatterns: 64,
    maxSourceLength: 4096,
    maxProgramSize: 1000,
    maxOutputLength: 16 * 1024 * 1024,
  });
  compilePatternSet(Array.from({ length: 64 }, (_, i) => ({ source: `p${i}` })));
  const many = refusal(Array.from({ length: 65 }, (_, i) => ({ source: `p${i}` })));
  assert.equal(many.index, 64);
  assert.equal(many.code, "pattern_limit");
  assert.equal(many.message, "patterns[64]: too many patterns: 65 given, the limit (maxPatterns) is 64");
  assert.equal(refusal([{ source: "a" }, { source: "b" }], { maxPatterns: 1 }).index, 1);

  const long = refusal([{ source: "a" }, { source: "x".repeat(4097) }]);
  assert.equal(long.index, 1);
  assert.equal(long.message, "patterns[1]: source is 4097 characters long, the limit (maxSourceLength) is 4096");
  assert.match(refusal([{ source: "abcd" }], { maxSourceLength: 3 }).message, /limit \(maxSourceLength\) is 3/);

  const big = refusal([{ source: "[a-z]{999}!" }]);
  assert.equal(big.message, "patterns[0]: pattern compiles to 1002 instructions, the limit (maxProgramSize) is 1000");
  compilePatternSet([{ source: "[a-z]{990}" }]);
});
