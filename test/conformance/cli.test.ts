/** Command-line and config-file errors (exit 64 usage, 78 config), and a YAML config that works. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "./harness/client.ts";
import { marker, proxySpec, removeDir, tempDir } from "./harness/fixture.ts";
import { recordFor } from "./harness/records.ts";
import { runtimes } from "./harness/runtimes.ts";
import { type RunResult, runTapline, startTapline } from "./harness/tapline.ts";
import { deadPort, startUpstream, type Upstream } from "./harness/upstream.ts";

const T = { timeout: 30_000 };

function show(r: RunResult): string {
  return `exit code ${r.code}, signal ${r.signal}\n--- stderr ---\n${r.stderr.slice(-3000)}\n--- stdout ---\n${
    r.stdout.slice(-1000)
  }`;
}

/** The message is for people: no JavaScript stack trace. */
function assertNoStack(r: RunResult): void {
  assert.doesNotMatch(r.stderr, /^\s+at .*:\d+:\d+\)?$/m, `stderr has a stack trace\n${show(r)}`);
}

/** stderr names line `line` of a file (`line 4`, `file:4:`, or JSON `"line":4`). */
function linePattern(line: number): RegExp {
  return new RegExp(`(\\bline:? ${line}\\b|:${line}(:\\d+)?\\b|"line":\\s*${line}\\b)`, "i");
}

for (const runtime of runtimes) {
  describe(`${runtime}: command-line and config errors`, { timeout: 150_000 }, () => {
    let dir: string;
    let up: Upstream;
    const upstream = "http://127.0.0.1:9";

    before(async () => {
      dir = tempDir();
      up = await startUpstream("u1");
    });
    after(async () => {
      await up?.close();
      removeDir(dir);
    });

    test("an invalid proxy name exits 64 and says invalid", T, async () => {
      const r = await runTapline(runtime, ["--proxy", `name=1api,listen_http=127.0.0.1:0,upstream=${upstream}`]);
      assert.equal(r.code, 64, show(r));
      assert.match(r.stderr, /invalid/i, show(r));
      assert.match(r.stderr, /1api/, show(r));
      assertNoStack(r);
    });

    test("an unknown --proxy key exits 64 and names the key", T, async () => {
      const r = await runTapline(runtime, [
        "--proxy",
        `name=api,listen_http=127.0.0.1:0,upstream=${upstream},bogus_key=1`,
      ]);
      assert.equal(r.code, 64, show(r));
      assert.match(r.stderr, /bogus_key/, show(r));
      assertNoStack(r);
    });

    test("a --proxy without upstream exits 64 and names upstream", T, async () => {
      const r = await runTapline(runtime, ["--proxy", "name=api,listen_http=127.0.0.1:0"]);
      assert.equal(r.code, 64, show(r));
      assert.match(r.stderr, /upstream/i, show(r));
      assertNoStack(r);
    });

    test("two proxies with the same name exit 64 and name it", T, async () => {
      const r = await runTapline(runtime, [
        "--proxy",
        `name=twin,listen_http=127.0.0.1:0,upstream=${upstream}`,
        "--proxy",
        `name=twin,listen_http=127.0.0.1:0,upstream=${upstream}`,
      ]);
      assert.equal(r.code, 64, show(r));
      assert.match(r.stderr, /twin/, show(r));
      assertNoStack(r);
    });

    test("two proxies on the same listen address fail before listening and name the address", T, async () => {
      const address = `127.0.0.1:${await deadPort()}`;
      const r = await runTapline(runtime, [
        "--proxy",
        `name=one,listen_http=${address},upstream=${upstream}`,
        "--proxy",
        `name=two,listen_http=${address},upstream=${upstream}`,
      ]);
      assert.ok(r.code === 64 || r.code === 78, `exit 64 or 78 for a configuration conflict\n${show(r)}`);
      assert.ok(r.stderr.includes(address), show(r));
      assert.doesNotMatch(r.stderr, /"msg":"ready"/, "never got ready");
      assertNoStack(r);
    });

    test("an unknown flag exits 64 and names it", T, async () => {
      const r = await runTapline(runtime, [
        "--no-such-flag",
        "--proxy",
        `name=api,listen_http=127.0.0.1:0,upstream=${upstream}`,
      ]);
      assert.equal(r.code, 64, show(r));
      assert.match(r.stderr, /no-such-flag/, show(r));
      assertNoStack(r);
    });

    test("a YAML syntax error exits 78 naming the file and line", T, async () => {
      const file = join(dir, "syntax-error.yaml");
      writeFileSync(
        file,
        `# tapline config with a syntax error on line 4\nmax_body_size: 1KB\nproxies:\n  - name: api: broken\n    upstream: ${upstream}\n`,
      );
      const r = await runTapline(runtime, ["--config", file]);
      assert.equal(r.code, 78, show(r));
      assert.ok(r.stderr.includes(file), `stderr names ${file}\n${show(r)}`);
      assert.match(r.stderr, linePattern(4), `stderr names line 4\n${show(r)}`);
      assertNoStack(r);
    });

    test("a YAML field of the wrong type exits 78 naming the file, line and field", T, async () => {
      const file = join(dir, "wrong-type.yaml");
      writeFileSync(
        file,
        `proxies:\n  - name: api\n    listen_http: 127.0.0.1:0\n    upstream: ${upstream}\nmax_body_size: [1]\n`,
      );
      const r = await runTapline(runtime, ["--config", file]);
      assert.equal(r.code, 78, show(r));
      assert.ok(r.stderr.includes(file), `stderr names ${file}\n${show(r)}`);
      assert.match(r.stderr, linePattern(5), `stderr names line 5\n${show(r)}`);
      assert.match(r.stderr, /max_body_size/, show(r));
      assertNoStack(r);
    });

    test("a valid YAML config with a proxies list starts and forwards", T, async () => {
      const file = join(dir, "good.yaml");
      const jsonl = join(dir, "good.jsonl");
      writeFileSync(
        file,
        [
          "max_body_size: 1KB",
          "listen_admin: 127.0.0.1:0",
          "proxies:",
          "  - name: yamlapi",
          "    listen_http: 127.0.0.1:0",
          `    upstream: ${up.url}`,
          `    log_jsonl: ${jsonl}`,
          "",
        ].join("\n"),
      );
      const tap = await startTapline(runtime, ["--config", file]);
      try {
        const m = marker("yaml");
        const res = await request(tap.url("yamlapi", `/bytes/4096?m=${m}`));
        assert.equal(res.status, 200);
        assert.equal(res.body.length, 4096);
        const record = await recordFor(jsonl, m);
        assert.equal(record.route_name, "yamlapi");
        assert.equal(record.response?.body_truncated, true, "max_body_size from YAML applies");
        assert.ok(tap.adminPort() > 0, "listen_admin from YAML applies");
      } finally {
        assert.equal((await tap.stop()).code, 0, tap.stderrTail());
      }
    });

    test("a flag overrides the YAML value", T, async () => {
      const file = join(dir, "override.yaml");
      const jsonl = join(dir, "override.jsonl");
      writeFileSync(
        file,
        `max_body_size: 1KB\nproxies:\n  - name: yamlapi\n    listen_http: 127.0.0.1:0\n    upstream: ${up.url}\n    log_jsonl: ${jsonl}\n`,
      );
      const tap = await startTapline(runtime, ["--config", file, "--max-body-size", "1MB"]);
      try {
        const m = marker("override");
        await request(tap.url("yamlapi", `/bytes/4096?m=${m}`));
        const record = await recordFor(jsonl, m);
        assert.notEqual(record.response?.body_truncated, true, "--max-body-size 1MB wins over YAML's 1KB");
        assert.equal(record.response?.body?.length, 4096);
      } finally {
        assert.equal((await tap.stop()).code, 0, tap.stderrTail());
      }
    });

    test("--proxy accepts the Go http-tap-proxy keys together", T, async () => {
      const jsonl = join(dir, "go.jsonl");
      const tap = await startTapline(runtime, [
        "--proxy",
        proxySpec({
          name: "go_compat-1",
          upstream: up.url,
          log_jsonl: jsonl,
          include_path: "^/in",
          exclude_path: "^/in/skip",
        }),
      ]);
      try {
        const m = marker("go");
        assert.equal((await request(tap.url("go_compat-1", `/in/x?m=${m}`))).status, 200);
        assert.equal((await recordFor(jsonl, m)).route_name, "go_compat-1");
      } finally {
        assert.equal((await tap.stop()).code, 0, tap.stderrTail());
      }
    });

    test("a wrong admin token file exits 78 naming the file, line and column, and not the tokens", T, async () => {
      const good = "good-admin-token-0123456789abcdef";
      const file = join(dir, "admin-tokens");
      writeFileSync(file, `${good}\nwirte:secret-part-0123456789abcdef\n`);
      const r = await runTapline(runtime, [
        "--listen-admin",
        "127.0.0.1:0",
        "--admin-token-file",
        file,
        "--proxy",
        `name=api,listen_http=127.0.0.1:0,upstream=${upstream}`,
      ]);
      assert.equal(r.code, 78, show(r));
      assert.ok(r.stderr.includes(`${file}:2:1: scope:`), `stderr names ${file}:2:1\n${show(r)}`);
      for (const secret of [good, "secret-part", "wirte"]) assert.ok(!r.stderr.includes(secret), show(r));
      assertNoStack(r);
    });

    test("--print-systemd leaves TAPLINE_ADMIN_TOKEN out of the unit", T, async () => {
      const secret = "systemd-admin-token-0123456789abcdef";
      const r = await runTapline(
        runtime,
        ["--print-systemd", "--listen-admin", ":9090", "--proxy", `name=api,listen_http=:8080,upstream=${upstream}`],
        20_000,
        { env: { TAPLINE_ADMIN_TOKEN: secret, TAPLINE_LOG_LEVEL: "warn" } },
      );
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^Environment=TAPLINE_LOG_LEVEL=warn$/m, show(r));
      assert.match(r.stdout, /^# TAPLINE_ADMIN_TOKEN is set but not written here/m, show(r));
      assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), show(r));
    });
  });
}
