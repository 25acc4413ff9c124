/** tapline-pack.yaml: what it holds and how its errors are located. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePackManifest, supportsTapline } from "../../../../src/plugins/packs/pack-manifest.ts";
import { formatPackRef, parsePackRef } from "../../../../src/plugins/packs/pack-ref.ts";
import { ConfigError } from "../../../../src/shared/errors.ts";

const VALID = `name: "@acme/pii"
version: 1.2.0
description: PII scrubbing
license: MIT
tapline: ">=0.1.0 <1"
plugins:
  - name: redact
    entry: plugins/redact.js
    fail: closed
    reads: [request.headers]
    limits: { capture_ms: 50, memory: 33554432 }
fixtures: [checks]
`;

test("a valid manifest parses with its plugins, limits and fixtures", () => {
  const pack = parsePackManifest(VALID, "pii/tapline-pack.yaml");
  assert.equal(pack.name, "@acme/pii");
  assert.equal(pack.version, "1.2.0");
  assert.deepEqual(pack.fixtures, ["checks"]);
  assert.deepEqual(pack.plugins, [{
    name: "redact",
    entry: "plugins/redact.js",
    fail: "closed",
    reads: ["request.headers"],
    limits: { captureMs: 50, memory: 33554432 },
  }]);
  assert.equal(supportsTapline(pack, "0.1.0"), true);
  assert.equal(supportsTapline(pack, "1.0.0"), false);
  const defaults = parsePackManifest(VALID.replace("fixtures: [checks]\n", ""), "x");
  assert.deepEqual(defaults.fixtures, ["fixtures"]);
});

test("every error names the file, line, column and field", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["version: 1.2.0", 'version: "1.2"', /^m\.yaml:2:10: version: "1\.2" is not a semantic version/],
    ["version: 1.2.0", "version: 1.2", /^m\.yaml:2:10: version: must be a string \(quote it: "1\.2"\)/],
    ['tapline: ">=0.1.0 <1"', 'tapline: "soon"', /^m\.yaml:5:10: tapline: "soon" is not a semver range/],
    ['name: "@acme/pii"', 'name: "Acme PII"', /^m\.yaml:1:7: name: must be a lower-case package name/],
    [
      "entry: plugins/redact.js",
      "entry: ../redact.js",
      /^m\.yaml:8:12: plugins\[0\]\.entry: must be a \.js or \.mjs file inside the pack/,
    ],
    ["entry: plugins/redact.js", "entry: /abs/redact.js", /plugins\[0\]\.entry: must be a \.js or \.mjs file inside/],
    ["fail: closed", "fail: maybe", /^m\.yaml:9:11: plugins\[0\]\.fail: must be one of "open", "closed"/],
    ["license: MIT\n", "", /^m\.yaml:1:1: "license" is required/],
    ["fixtures: [checks]", "fixtures: [checks]\nsecret: 1", /^m\.yaml:13:9: secret: unknown key "secret"/],
    [
      "fixtures: [checks]",
      "  - name: redact\n    entry: b.js\nfixtures: [checks]",
      /^m\.yaml:12:11: plugins\[1\]\.name: plugin "redact" is listed twice/,
    ],
    ["fixtures: [checks]", "fixtures: [checks\n", /^m\.yaml:\d+:\d+: invalid YAML/],
  ];
  for (const [from, to, pattern] of cases) {
    const text = VALID.replace(from, to);
    assert.notEqual(text, VALID, `the case applies: ${from}`);
    assert.throws(() => parsePackManifest(text, "m.yaml"), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, pattern);
      return true;
    });
  }
});

test("use: names a pack plugin as pack/plugin[@version], scoped or not; files and bundled names are not refs", () => {
  assert.deepEqual(parsePackRef("@acme/pii/redact@1.2.0"), { pack: "@acme/pii", plugin: "redact", version: "1.2.0" });
  assert.deepEqual(parsePackRef("pii/redact"), { pack: "pii", plugin: "redact" });
  assert.equal(formatPackRef({ pack: "@acme/pii", plugin: "redact", version: "1.2.0" }), "@acme/pii/redact@1.2.0");
  for (const other of ["redaction", "./plugins/x.js", "/abs/x.mjs", "plugins/x.js", "a/b/c/d", "Pii/Redact"]) {
    assert.equal(parsePackRef(other), undefined, other);
  }
});
