import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../../src/shared/errors.ts";
import { type CommandLine, resolveCommandLine } from "../../../src/config/load.ts";
import { MIN_PLUGIN_MEMORY, resolveAgainst } from "../../../src/config/plugins.ts";
import { parseYamlConfig } from "../../../src/config/yaml.ts";
import { DEFAULT_PLUGIN_LIMITS, type PluginDeclaration } from "../../../src/plugins/types.ts";

const PROXIES = `# eight lines of proxies
proxies:
  - name: api
    upstream: http://localhost:3000
    listen_http: ":8080"
  - name: web
    upstream: http://localhost:3001
    listen_http: ":8081"
`;

/** Parse `plugins` (the YAML text after `plugins:`) and return the declarations. */
function declarations(plugins: string, file = "t.yaml"): PluginDeclaration[] {
  const layer = parseYamlConfig(`${PROXIES}plugins:\n${plugins}`, file);
  assert.ok(layer.plugins, "the layer carries plugins");
  return layer.plugins.map((e) => e.plugin);
}

/** The data fields of a declaration (without the locating function). */
function data(plugin: PluginDeclaration | undefined): Omit<PluginDeclaration, "locateConfig"> {
  assert.ok(plugin);
  const { locateConfig: _, ...rest } = plugin;
  return rest;
}

/** PROXIES has 8 lines, `plugins:` is line 9, so the entries start on line 10. */
function assertPluginError(plugins: string, line: number, column: number, field: string, message: RegExp): void {
  assert.throws(() => parseYamlConfig(`${PROXIES}plugins:\n${plugins}`, "t.yaml"), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.deepEqual(error.location, { file: "t.yaml", line, column, field });
    const prefix = `t.yaml:${line}:${column}: ${field}: `;
    assert.ok(error.message.startsWith(prefix), `${error.message} should start with ${prefix}`);
    assert.match(error.message.slice(prefix.length), message);
    return true;
  });
}

test("a plugin entry maps onto a declaration with limits, routes, fail and a resolved file", () => {
  const [redact, custom] = declarations(
    `  - id: redact
    use: redaction
    config:
      headers: [authorization]
    routes: [api]
    fail: closed
    limits:
      hook_ms: 5
      capture_ms: 250.5
      setup_ms: 2000
      memory: 32MB
      body: 65536
      failures: 3
  - id: usage_2
    use: ./scripts/usage.mjs
`,
    "/etc/tapline/app.yaml",
  );
  assert.deepEqual(data(redact), {
    id: "redact",
    use: "redaction",
    config: { headers: ["authorization"] },
    routes: ["api"],
    fail: "closed",
    limits: { hookMs: 5, captureMs: 250.5, setupMs: 2000, memory: 32 * 1024 * 1024, body: 65536, failures: 3 },
    location: { file: "/etc/tapline/app.yaml", line: 10, column: 5, field: "plugins[0]" },
  });
  assert.deepEqual(data(custom), {
    id: "usage_2",
    use: "./scripts/usage.mjs",
    file: "/etc/tapline/scripts/usage.mjs",
    config: {},
    limits: DEFAULT_PLUGIN_LIMITS,
    location: { file: "/etc/tapline/app.yaml", line: 23, column: 5, field: "plugins[1]" },
  });
  assert.notEqual(custom?.limits, DEFAULT_PLUGIN_LIMITS, "each declaration owns its limits");
});

test("partial limits keep the defaults for absent keys; sizes accept units", () => {
  const [plugin] = declarations("  - id: p\n    use: path-filter\n    limits: {memory: '17MB', body: 2KB}\n");
  assert.deepEqual(plugin?.limits, { ...DEFAULT_PLUGIN_LIMITS, memory: MIN_PLUGIN_MEMORY, body: 2048 });
});

test("no plugins key leaves the layer without plugins; an empty list is an empty chain", () => {
  assert.equal(parseYamlConfig(PROXIES, "t.yaml").plugins, undefined);
  assert.deepEqual(parseYamlConfig(`${PROXIES}plugins: []\n`, "t.yaml").plugins, []);
});

test("locateConfig points at a value inside the entry's config", () => {
  const plugins = declarations(
    `  - id: a
    use: path-filter
  - id: b
    use: redaction
  - id: replace
    use: text-replace
    config:
      rules:
        - match: "/a(b/"
          replace: x
        - match: plain
`,
  );
  const replace = plugins[2]!;
  assert.ok(replace.locateConfig);
  assert.deepEqual(replace.locateConfig(["rules", 0, "match"]), {
    file: "t.yaml",
    line: 18,
    column: 18,
    field: "plugins[2].config.rules[0].match",
  });
  assert.deepEqual(replace.locateConfig(["rules", 1]), {
    file: "t.yaml",
    line: 20,
    column: 11,
    field: "plugins[2].config.rules[1]",
  });
  assert.deepEqual(replace.locateConfig([]), { file: "t.yaml", line: 17, column: 7, field: "plugins[2].config" });
  // A missing key (such as a required property) falls back to the nearest value that exists.
  assert.deepEqual(replace.locateConfig(["rules", 0, "in"]), {
    file: "t.yaml",
    line: 18,
    column: 11,
    field: "plugins[2].config.rules[0].in",
  });
  assert.deepEqual(replace.location, { file: "t.yaml", line: 14, column: 5, field: "plugins[2]" });
});

test("structural errors name file, line, column and field", () => {
  assertPluginError("  - use: redaction\n", 10, 5, "plugins[0]", /^missing required key "id"$/);
  assertPluginError("  - id: r\n", 10, 5, "plugins[0]", /^missing required key "use"$/);
  assertPluginError(
    "  - id: 1r\n    use: redaction\n",
    10,
    9,
    "plugins[0].id",
    /^invalid plugin id "1r": must start with a letter/,
  );
  assertPluginError(
    "  - id: r\n    use: redaction\n    colour: red\n",
    12,
    5,
    "plugins[0].colour",
    /^unknown key "colour"; valid keys are id, use, config, routes, fail, limits$/,
  );
  assertPluginError(
    "  - id: r\n    use: redaction\n    limits:\n      cpu: 5\n",
    13,
    7,
    "plugins[0].limits.cpu",
    /^unknown key "cpu"; valid keys are hook_ms, capture_ms, setup_ms, memory, body, failures$/,
  );
  assertPluginError(
    "  - id: r\n    use: redaction\n    fail: maybe\n",
    12,
    11,
    "plugins[0].fail",
    /^must be one of open, closed, not "maybe"$/,
  );
  assertPluginError(
    "  - id: r\n    use: redaction\n    config: [1]\n",
    12,
    13,
    "plugins[0].config",
    /^must be a mapping$/,
  );
  assertPluginError(
    "  - id: r\n    use: redaction\n    routes: api\n",
    12,
    13,
    "plugins[0].routes",
    /^must be a list$/,
  );
  assertPluginError(
    "  - id: r\n    use: redaction\n    routes: []\n",
    12,
    13,
    "plugins[0].routes",
    /^must not be empty$/,
  );
  assertPluginError("  - id: r\n    use: 7\n", 11, 10, "plugins[0].use", /^must be a string$/);
});

test("semantic errors: duplicate ids, unknown plugins and bad limits", () => {
  const entry = (limits: string) =>
    `  - id: a\n    use: redaction\n  - id: b\n    use: redaction\n    limits: ${limits}\n`;
  assertPluginError(
    "  - id: a\n    use: redaction\n  - id: a\n    use: path-filter\n",
    12,
    9,
    "plugins[1].id",
    /^duplicate plugin id "a" \(also used by plugins\[0\] at line 10\)$/,
  );
  assertPluginError(
    "  - id: a\n    use: redactor\n",
    11,
    10,
    "plugins[0].use",
    /^unknown plugin "redactor": use one of path-filter, redaction, text-replace, a path to a \.js or \.mjs file, or a plugin of an installed pack \(pack\/plugin@version\)$/,
  );
  assertPluginError("  - id: a\n    use: ./x.ts\n", 11, 10, "plugins[0].use", /^unknown plugin "\.\/x\.ts"/);
  assertPluginError(
    entry("{memory: 16MB}"),
    14,
    22,
    "plugins[1].limits.memory",
    /^must be at least 17MB, not "16MB"$/,
  );
  assertPluginError(entry("{memory: 1000}"), 14, 22, "plugins[1].limits.memory", /^must be at least 17MB/);
  assertPluginError(entry("{memory: lots}"), 14, 22, "plugins[1].limits.memory", /^invalid size "lots"/);
  assertPluginError(entry("{memory: 1.5}"), 14, 22, "plugins[1].limits.memory", /^must be a size such as "64MB"/);
  assertPluginError(entry("{body: -1}"), 14, 20, "plugins[1].limits.body", /^must be at least 0$/);
  assertPluginError(entry("{hook_ms: 0}"), 14, 23, "plugins[1].limits.hook_ms", /^must be greater than 0$/);
  assertPluginError(entry("{capture_ms: '5'}"), 14, 26, "plugins[1].limits.capture_ms", /^must be a number$/);
  assertPluginError(entry("{setup_ms: .inf}"), 14, 24, "plugins[1].limits.setup_ms", /^must be a number$/);
  assertPluginError(entry("{failures: 0}"), 14, 24, "plugins[1].limits.failures", /^must be at least 1$/);
  assertPluginError(entry("{failures: 2.5}"), 14, 24, "plugins[1].limits.failures", /^must be a whole number$/);
});

/** A fake file system for readTextFile. */
function files(map: Record<string, string>) {
  return (path: string): Promise<string> => {
    const text = map[path];
    return text === undefined ? Promise.reject(new Error(`ENOENT: ${path}`)) : Promise.resolve(text);
  };
}

test("routes must name final proxies, including ones flags add", async () => {
  const yaml = `${PROXIES}plugins:\n  - id: a\n    use: redaction\n    routes:\n      - api\n      - extra\n`;
  await assert.rejects(resolveCommandLine(["--config", "c.yaml"], {}, files({ "c.yaml": yaml })), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.deepEqual(error.location, { file: "c.yaml", line: 14, column: 9, field: "plugins[0].routes[1]" });
    assert.equal(error.message, 'c.yaml:14:9: plugins[0].routes[1]: unknown proxy "extra"; the proxies are api, web');
    return true;
  });
  const result: CommandLine = await resolveCommandLine(
    ["--config", "c.yaml", "--proxy", "name=extra,listen_http=:9000,upstream=http://localhost:4000"],
    {},
    files({ "c.yaml": yaml }),
  );
  assert.equal(result.kind, "run");
  if (result.kind !== "run") return;
  assert.deepEqual(result.config.plugins.map((p) => [p.id, p.routes]), [["a", ["api", "extra"]]]);
  assert.equal(result.config.plugins[0]?.location?.line, 10);
});

test("Config.plugins keeps chain order and is empty without a config file", async () => {
  const yaml =
    `${PROXIES}plugins:\n  - {id: z, use: redaction}\n  - {id: a, use: path-filter}\n  - {id: m, use: /opt/p.js}\n`;
  const result = await resolveCommandLine(["--config", "c.yaml"], {}, files({ "c.yaml": yaml }));
  assert.ok(result.kind === "run");
  assert.deepEqual(result.config.plugins.map((p) => [p.id, p.use, p.file]), [
    ["z", "redaction", undefined],
    ["a", "path-filter", undefined],
    ["m", "/opt/p.js", "/opt/p.js"],
  ]);
  const bare = await resolveCommandLine(["--proxy", "name=api,listen_http=:1,upstream=http://x"], {}, files({}));
  assert.ok(bare.kind === "run");
  assert.deepEqual(bare.config.plugins, []);
});

test("resolveAgainst joins relative plugin paths to the config file's folder", () => {
  assert.equal(resolveAgainst("/etc/tapline/app.yaml", "./p/x.js"), "/etc/tapline/p/x.js");
  assert.equal(resolveAgainst("/etc/tapline/app.yaml", "p/x.js"), "/etc/tapline/p/x.js");
  assert.equal(resolveAgainst("/etc/tapline/app.yaml", "../x.mjs"), "/etc/tapline/../x.mjs");
  assert.equal(resolveAgainst("/etc/tapline/app.yaml", "/opt/x.js"), "/opt/x.js");
  assert.equal(resolveAgainst("conf/app.yaml", "./x.js"), "conf/x.js");
  assert.equal(resolveAgainst("app.yaml", "./x.js"), "./x.js");
  assert.equal(resolveAgainst("app.yaml", "x.js"), "x.js");
  assert.equal(resolveAgainst("C:\\tap\\app.yaml", ".\\p\\x.js"), "C:\\tap\\p\\x.js");
  assert.equal(resolveAgainst("C:\\tap\\app.yaml", "D:\\x.js"), "D:\\x.js");
});
