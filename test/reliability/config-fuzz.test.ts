/**
 * Seeded, reproducible fuzzing of the command line and the YAML config:
 * mutated `--proxy` specs and flags, and mutated YAML documents, go through
 * the resolver in-process (thousands a second), and a sample of them through
 * real tapline processes on each runtime. Every input either resolves or is
 * refused with a usage or config error: never an internal error (exit 70), a
 * stack trace, or a hang; every YAML error names the file and line, and the
 * field whenever it is about one. A failure prints the seed and the input.
 */
import assert from "node:assert/strict";
import { seededRandom } from "../fixtures/seeded-random.ts";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { writeFileSync } from "node:fs";
import { resolveCommandLine } from "../../src/config/load.ts";
import { ConfigError, TaplineError } from "../../src/shared/errors.ts";
import { removeDir, tempDir } from "../conformance/harness/fixture.ts";
import { runtimes } from "../conformance/harness/runtimes.ts";
import { runTapline } from "../conformance/harness/tapline.ts";
import { scale } from "./scale.ts";

const SEED = Number(process.env["TAPLINE_FUZZ_SEED"] ?? 20261203);
const ARGV_CASES = scale(1000, 1000);
const YAML_CASES = scale(300, 300);
const PROCESS_CASES = scale(12, 100);

const JUNK = [
  "",
  "=",
  ",",
  ";",
  ":",
  "%",
  "%00",
  "\0",
  "\n",
  " ",
  "-1",
  "0",
  "99999999999999999999",
  "1e309",
  "NaN",
  "é",
  "😀",
  "\u202e",
  "[",
  "{",
  "'",
  '"',
  "\\",
  "../../etc/passwd",
  "http://",
  "http://[::1",
  ":99999",
  "a".repeat(5000),
  "~",
  "*",
  "1.5TB",
  "10ms",
  "true",
];

const VALID_ARGV = [
  "--proxy",
  "name=api,listen_http=127.0.0.1:8080,upstream=http://127.0.0.1:3000,log_jsonl=./logs/,exclude_path=^/health",
  "--proxy",
  "name=web,listen_https=:8443,upstream=https://127.0.0.1:3001/base,log_sqlite=./web.db,include_path=^/api",
  "--max-body-size",
  "10MB",
  "--rotate-size",
  "50MB",
  "--rotate-interval",
  "1h",
  "--retention",
  "5",
  "--listen-admin",
  "127.0.0.1:9090",
  "--flush-interval",
  "100ms",
  "--auto-cert",
];

const VALID_YAML = `listen_admin: 127.0.0.1:9090
max_body_size: 10MB
flush_interval: 100ms
admin:
  allowed_hosts: [tapline.internal]
proxies:
  - name: api
    listen_http: 127.0.0.1:8080
    upstream: http://127.0.0.1:3000
    log_jsonl: ./data/
    exclude_path: ["^/favicon\\\\.ico$"]
  - name: web
    listen_http: :8081
    upstream: http://127.0.0.1:3001
    log_sqlite: ./web.db
plugins:
  - id: scrub
    use: redaction
    config:
      headers: [authorization]
`;

/** One random change to a string. */
function mutateText(text: string, random: () => number): string {
  const at = Math.floor(random() * (text.length + 1));
  const junk = JUNK[Math.floor(random() * JUNK.length)]!;
  switch (Math.floor(random() * 5)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 8));
    case 1:
      return text.slice(0, at) + junk + text.slice(at);
    case 2:
      return text.slice(0, at);
    case 3:
      return text.slice(0, at) + junk + text.slice(at + Math.floor(random() * 20));
    default:
      return text + junk;
  }
}

/** A mutated argv: a few changes to values, flags dropped, repeated or invented. */
function mutateArgv(random: () => number): string[] {
  const argv = [...VALID_ARGV];
  for (let changes = 1 + Math.floor(random() * 3); changes > 0; changes--) {
    const index = Math.floor(random() * argv.length);
    switch (Math.floor(random() * 4)) {
      case 0:
        argv[index] = mutateText(argv[index]!, random);
        break;
      case 1:
        argv.splice(index, 1);
        break;
      case 2:
        argv.splice(index, 0, argv[Math.floor(random() * argv.length)]!);
        break;
      default:
        argv.splice(index, 0, `--${mutateText("unknown-flag", random)}`);
    }
  }
  return argv;
}

/** A mutated YAML document: several random changes anywhere. */
function mutateYaml(random: () => number): string {
  let text = VALID_YAML;
  for (let changes = 1 + Math.floor(random() * 3); changes > 0; changes--) text = mutateText(text, random);
  return text;
}

/** Resolves within 2 s, or says it hung. */
async function resolveBounded(argv: string[], files: Record<string, string>): Promise<unknown> {
  const read = (path: string) =>
    path in files ? Promise.resolve(files[path]!) : Promise.reject(
      Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" }),
    );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("hung for 2 s")), 2000)));
  try {
    return await Promise.race([resolveCommandLine(argv, {}, read), hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolved, or refused with a usage/config error (never an internal one). */
function assertHandled(outcome: unknown, error: unknown, what: () => string): void {
  if (error === undefined) return;
  assert.ok(error instanceof TaplineError, `${what()}\nnot a usage or config error: ${String(error)}`);
  assert.ok(error.exitCode !== 70, `${what()}\nexit 70: ${error.message}`);
  assert.doesNotMatch(error.message, /\n\s+at /, `${what()}\na stack trace in the message`);
  assert.ok(error.message.length < 4000, `${what()}\na ${error.message.length}-character message`);
  void outcome;
}

describe("config fuzz (in-process)", { timeout: 300_000 }, () => {
  test(`${ARGV_CASES} mutated command lines: resolved or refused with a usage error naming what`, async () => {
    const random = seededRandom(SEED);
    for (let i = 0; i < ARGV_CASES; i++) {
      const argv = mutateArgv(random);
      let outcome: unknown;
      let error: unknown;
      try {
        outcome = await resolveBounded(argv, {});
      } catch (caught) {
        error = caught;
      }
      assertHandled(outcome, error, () => `seed ${SEED}, case ${i}: ${JSON.stringify(argv).slice(0, 2000)}`);
    }
  });

  test(`${YAML_CASES} mutated YAML configs: resolved or refused naming file, line and field`, async () => {
    const random = seededRandom(SEED + 1);
    let withField = 0;
    let refused = 0;
    for (let i = 0; i < YAML_CASES; i++) {
      const yaml = mutateYaml(random);
      const what = () => `seed ${SEED + 1}, case ${i}:\n${yaml.slice(0, 3000)}`;
      let error: unknown;
      try {
        await resolveBounded(["--config", "tapline.yaml"], { "tapline.yaml": yaml });
      } catch (caught) {
        error = caught;
      }
      assertHandled(undefined, error, what);
      if (error === undefined) continue;
      refused++;
      // Errors about the file's content are located; a proxy or plugin problem found after the merge names its field.
      if (error instanceof ConfigError && error.location.file !== undefined) {
        assert.equal(error.location.file, "tapline.yaml", what());
        assert.ok(Number.isInteger(error.location.line) && error.location.line! >= 1, `${what()}\n${error.message}`);
        assert.ok(error.message.startsWith(`tapline.yaml:${error.location.line}`), `${what()}\n${error.message}`);
        // Only errors about the whole document (its syntax, or not being a mapping) have no field to name.
        if (!/invalid YAML|the config must be a mapping/i.test(error.message)) {
          assert.ok(error.location.field !== undefined, `${what()}\nno field: ${error.message}`);
          withField++;
        }
      } else {
        // Not located in the file: must still say where (a key, a flag or a proxy).
        assert.match(
          (error as Error).message,
          /proxy|plugin|--|"|\bfield\b/i,
          `${what()}\n${(error as Error).message}`,
        );
      }
    }
    assert.ok(refused > YAML_CASES / 4, `mutations refused: ${refused}`);
    assert.ok(withField > 0, "some errors name a field");
  });
});

for (const runtime of runtimes) {
  describe(`${runtime}: config fuzz through real processes`, { timeout: 300_000 }, () => {
    let dir = "";
    before(() => {
      dir = tempDir("tapline-fuzz-");
    });
    after(() => removeDir(dir));

    test(`${PROCESS_CASES} mutated command lines and configs: never exit 70, never a stack trace, never a hang`, async () => {
      const random = seededRandom(SEED + 2);
      for (let i = 0; i < PROCESS_CASES; i++) {
        const useYaml = i % 2 === 1;
        const config = join(dir, `fuzz-${i}.yaml`);
        if (useYaml) writeFileSync(config, mutateYaml(random));
        // --print-systemd resolves the whole config and exits, so a valid mutation does not start a proxy.
        const argv = [...(useYaml ? ["--config", config] : mutateArgv(random)), "--print-systemd"];
        const result = await runTapline(runtime, argv, 20_000, { cwd: dir });
        const what = `seed ${SEED + 2}, case ${i}: ${JSON.stringify(argv).slice(0, 500)}\n${
          result.stderr.slice(0, 2000)
        }`;
        assert.ok(result.code !== null, `${what}\nkilled (${result.signal}): a hang`);
        assert.notEqual(result.code, 70, what);
        assert.ok([0, 64, 66, 69, 77, 78].includes(result.code!), `${what}\nexit ${result.code}`);
        assert.doesNotMatch(result.stderr, /\n\s+at |internal error/, what);
      }
    });
  });
}
