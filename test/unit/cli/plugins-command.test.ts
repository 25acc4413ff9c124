import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePluginsArgs, withAbsolutePaths } from "../../../src/cli/plugins-command.ts";
import { UsageError } from "../../../src/shared/errors.ts";

test("plugins arguments: actions, targets, --admin, --token-file and --json", () => {
  assert.deepEqual(parsePluginsArgs(["list"]), { action: "list", admin: "http://127.0.0.1:9090", json: false });
  assert.deepEqual(
    parsePluginsArgs(["apply", "p.yaml", "--admin=http://127.0.0.1:1/", "--json", "--token-file", "t"]),
    {
      action: "apply",
      target: "p.yaml",
      admin: "http://127.0.0.1:1",
      tokenFile: "t",
      json: true,
    },
  );
  assert.equal(parsePluginsArgs(["remove", "scrub"]).target, "scrub");
  for (
    const bad of [[], ["frobnicate"], ["list", "x"], ["apply"], ["remove", "a", "b"], ["list", "--nope"], [
      "list",
      "--admin",
    ]]
  ) {
    assert.throws(() => parsePluginsArgs(bad), UsageError, JSON.stringify(bad));
  }
});

test("relative plugin paths become absolute against the file's folder; lines stay where they were", () => {
  const text =
    "# team set\nplugins:\n  - id: a\n    use: ./a.js\n  - id: b\n    use: redaction\n  - id: c\n    use: /abs/c.mjs\n";
  const out = withAbsolutePaths(text, "sets/team.yaml", "/work");
  assert.match(out, /use: \/work\/sets\/a\.js/);
  assert.match(out, /use: redaction/);
  assert.match(out, /use: \/abs\/c\.mjs/);
  assert.equal(out.split("\n").findIndex((l) => l.includes("/work/sets/a.js")), 3, "same line as before");
  assert.equal(withAbsolutePaths("plugins: [", "x.yaml", "/w"), "plugins: [", "broken YAML goes as written");
});
