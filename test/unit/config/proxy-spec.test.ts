import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "../../../src/shared/errors.ts";
import { parseProxySpec } from "../../../src/config/proxy-spec.ts";

const BASE = "name=api,upstream=http://localhost:3000";

test("parseProxySpec reads every key", () => {
  const proxy = parseProxySpec(
    `${BASE}/v1,listen_http=:8080,listen_https=127.0.0.1:8443,log_jsonl=./api.jsonl,include_path=^/a,exclude_path=^/a/health`,
    "--proxy #1",
  );
  assert.equal(proxy.name, "api");
  assert.equal(proxy.upstream.href, "http://localhost:3000/v1");
  assert.deepEqual(proxy.listenHttp, { host: "", port: 8080, text: ":8080" });
  assert.deepEqual(proxy.listenHttps, { host: "127.0.0.1", port: 8443, text: "127.0.0.1:8443" });
  assert.equal(proxy.logJsonl, "./api.jsonl");
  assert.deepEqual(proxy.includePath, ["^/a"]);
  assert.deepEqual(proxy.excludePath, ["^/a/health"]);
});

test("include_path and exclude_path repeat, and commas inside a regex are kept", () => {
  const proxy = parseProxySpec(
    `${BASE},listen_http=:8080,include_path=^/v{1,2}/,include_path=^/x,exclude_path=a,exclude_path=b`,
    "--proxy #1",
  );
  assert.deepEqual(proxy.includePath, ["^/v{1,2}/", "^/x"]);
  assert.deepEqual(proxy.excludePath, ["a", "b"]);
});

test("directory mode: log_jsonl ending in a separator becomes <dir><name>.jsonl", () => {
  assert.equal(parseProxySpec(`${BASE},listen_http=:1,log_jsonl=./logs/`, "--proxy #1").logJsonl, "./logs/api.jsonl");
  assert.equal(
    parseProxySpec(`${BASE},listen_http=:1,log_jsonl=C:\\logs\\`, "--proxy #1").logJsonl,
    "C:\\logs\\api.jsonl",
  );
});

test("a bad name says invalid and names the proxy index", () => {
  assert.throws(() => parseProxySpec("name=1api,upstream=http://x,listen_http=:1", "--proxy #2"), {
    name: "UsageError",
    message:
      'Invalid proxy name "1api" in --proxy #2: must start with a letter and contain only letters, digits, "_" and "-"',
  });
  assert.throws(() => parseProxySpec("name=a.b,upstream=http://x,listen_http=:1", "--proxy #1"), /invalid/i);
});

test("unknown keys are named with the index and the valid keys", () => {
  assert.throws(() => parseProxySpec(`${BASE},listen_http=:1,colour=red`, "--proxy #3"), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.equal(error.exitCode, 64);
    assert.match(error.message, /^Unknown key "colour" in --proxy #3: valid keys are name, upstream, listen_http/);
    return true;
  });
});

test("log_sqlite takes a file, or a directory that gets <name>.db", () => {
  assert.equal(parseProxySpec(`${BASE},listen_http=:1,log_sqlite=./a.db`, "--proxy #1").logSqlite, "./a.db");
  const dir = parseProxySpec(`${BASE},listen_http=:1,log_jsonl=./logs/,log_sqlite=./logs/`, "--proxy #1");
  assert.equal(dir.logSqlite, `./logs/${dir.name}.db`);
  assert.equal(dir.logJsonl, `./logs/${dir.name}.jsonl`);
});

test("duplicate keys, missing fields and bad values are errors", () => {
  const cases: [string, RegExp][] = [
    ["name=a,name=b,upstream=http://x,listen_http=:1", /^Duplicate key "name" in --proxy #1/],
    ["upstream=http://x,listen_http=:1", /^Missing name in --proxy #1/],
    ["name=a,listen_http=:1", /^Missing upstream for proxy "a" in --proxy #1/],
    ["name=a,upstream=http://x", /^Missing listener for proxy "a" in --proxy #1: give listen_http, listen_https/],
    [
      "name=a,upstream=ftp://x,listen_http=:1",
      /^Invalid upstream "ftp:\/\/x" in --proxy #1: must be an absolute http or https URL/,
    ],
    ["name=a,upstream=localhost:3000,listen_http=:1", /^Invalid upstream/],
    ["name=a,upstream=/relative,listen_http=:1", /^Invalid upstream/],
    ["name=a,upstream=http://x,listen_http=8080", /^Invalid listen_http "8080" in --proxy #1: expected host:port/],
    ["name=a,upstream=http://x,listen_http=:1,include_path=(", /^Invalid include_path regex "\(" in --proxy #1/],
    ["name=a,upstream=http://x,listen_http=:1,exclude_path=[", /^Invalid exclude_path regex/],
    ["name=a,upstream=http://x,listen_http=", /^Empty value for "listen_http" in --proxy #1/],
    ["just-text", /^Invalid --proxy value "just-text" in --proxy #1: expected comma-separated key=value pairs/],
  ];
  for (const [spec, expected] of cases) {
    assert.throws(() => parseProxySpec(spec, "--proxy #1"), { name: "UsageError", message: expected }, spec);
  }
});

test("http2 is on, off, or absent (the listeners' default: on)", () => {
  assert.equal(parseProxySpec(`${BASE},listen_http=:1`, "--proxy #1").http2, undefined);
  assert.equal(parseProxySpec(`${BASE},listen_http=:1,http2=off`, "--proxy #1").http2, false);
  assert.equal(parseProxySpec(`${BASE},listen_http=:1,http2=ON`, "--proxy #1").http2, true);
  assert.throws(() => parseProxySpec(`${BASE},listen_http=:1,http2=yes`, "--proxy #1"), {
    name: "UsageError",
    message: 'Invalid http2 "yes" in --proxy #1: must be on or off',
  });
});

test("upstream_proto is auto, h1 or h2", () => {
  assert.equal(parseProxySpec(`${BASE},listen_http=:1`, "--proxy #1").upstreamProto, undefined);
  assert.equal(parseProxySpec(`${BASE},listen_http=:1,upstream_proto=H2`, "--proxy #1").upstreamProto, "h2");
  assert.throws(() => parseProxySpec(`${BASE},listen_http=:1,upstream_proto=h3`, "--proxy #1"), {
    name: "UsageError",
    message: 'Invalid upstream_proto "h3" in --proxy #1: must be auto, h1 or h2',
  });
});
