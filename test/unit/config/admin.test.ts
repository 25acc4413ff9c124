/** The admin settings: YAML `admin:`, TAPLINE_ADMIN_TOKEN, --admin-token-file, --data-dir and their precedence. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { renderSystemdUnit } from "../../../src/cli/systemd.ts";
import { parseEnv } from "../../../src/config/env.ts";
import { type CommandLine, resolveCommandLine } from "../../../src/config/load.ts";
import { parseYamlConfig } from "../../../src/config/yaml.ts";
import { ConfigError } from "../../../src/shared/errors.ts";
import { assertLocatedError } from "./located-error.ts";

const API = "name=api,listen_http=:8080,upstream=http://localhost:3000";
const YAML_TOKEN = "yaml-token-0123456789abcdef";
const ENV_TOKEN = "env-token-0123456789abcdef";
const PROXIES = "proxies:\n  - name: api\n    upstream: http://localhost:3000\n    listen_http: ':8080'\n";

async function config(argv: string[], env: Record<string, string> = {}, yaml?: string) {
  const read = (path: string) =>
    path === "t.yaml" && yaml !== undefined ? Promise.resolve(yaml) : Promise.reject(
      new Error(`ENOENT: ${path}`),
    );
  const result: CommandLine = await resolveCommandLine(
    [...argv, ...(yaml === undefined ? ["--proxy", API] : ["--config", "t.yaml"])],
    env,
    read,
  );
  assert.equal(result.kind, "run");
  return (result as Extract<CommandLine, { kind: "run" }>).config;
}

/** Assert that parsing `yaml` fails at line:column with `field`, a message matching `message` and no `secret`. */
function assertYamlError(yaml: string, where: [number, number, string], message: RegExp, secret?: string): void {
  const [line, column, field] = where;
  const expected = { file: "t.yaml", line, column, field, message, ...(secret === undefined ? {} : { secret }) };
  assertLocatedError(() => parseYamlConfig(yaml, "t.yaml"), expected);
}

test("YAML admin: tokens with scopes, token_file, allowed_hosts, and data_dir", () => {
  const layer = parseYamlConfig(
    [
      "admin:",
      "  tokens:",
      `    - { token: ${YAML_TOKEN}, scope: admin }`,
      "    - token: read-token-0123456789abcdef",
      "      scope: read",
      "  token_file: /etc/tapline/tokens",
      "  allowed_hosts: [tapline.internal, '[fd00::1]']",
      "data_dir: /var/lib/tapline",
      "",
    ].join("\n"),
    "t.yaml",
  );
  assert.deepEqual(layer.adminTokens, [
    { token: YAML_TOKEN, scope: "admin", source: "t.yaml:3:16: admin.tokens[0].token" },
    { token: "read-token-0123456789abcdef", scope: "read", source: "t.yaml:4:14: admin.tokens[1].token" },
  ]);
  assert.deepEqual(layer.adminAllowedHosts, ["tapline.internal", "[fd00::1]"]);
  assert.equal(layer.globals.adminTokenFile, "/etc/tapline/tokens");
  assert.equal(layer.origins.adminTokenFile?.label, "t.yaml:6:15: admin.token_file");
  assert.equal(layer.globals.dataDir, "/var/lib/tapline");
});

test("YAML admin errors are located and never repeat a token", () => {
  assertYamlError(
    "admin:\n  tokens:\n    - { token: short-secret, scope: admin }\n",
    [3, 16, "admin.tokens[0].token"],
    /^the token must be at least 16 characters long \(it has 12\)$/,
    "short",
  );
  assertYamlError(
    "admin:\n  tokens:\n    - { token: 'secret:secret-secret-secret', scope: admin }\n",
    [3, 16, "admin.tokens[0].token"],
    /^the token may contain only letters/,
    "secret",
  );
  assertYamlError(
    `admin:\n  tokens:\n    - { token: ${YAML_TOKEN}, scope: admin }\n    - { token: ${YAML_TOKEN}, scope: read }\n`,
    [4, 16, "admin.tokens[1].token"],
    /^the same token as admin\.tokens\[0\]$/,
    YAML_TOKEN,
  );
  assertYamlError(
    `admin:\n  tokens:\n    - { token: ${YAML_TOKEN}, scope: root }\n`,
    [3, 52, "admin.tokens[0].scope"],
    /^must be one of admin, read/,
    YAML_TOKEN,
  );
  assertYamlError(
    `admin:\n  tokens:\n    - { token: ${YAML_TOKEN} }\n`,
    [3, 7, "admin.tokens[0]"],
    /^missing required key "scope"/,
    YAML_TOKEN,
  );
  assertYamlError("admin:\n  tokens: []\n", [2, 11, "admin.tokens"], /^must not be empty/);
  assertYamlError("admin:\n  colour: red\n", [2, 3, "admin.colour"], /^unknown key "colour"; valid keys are tokens/);
  assertYamlError(
    "admin:\n  allowed_hosts:\n    - ok.internal\n    - tapline.internal:9090\n",
    [4, 7, "admin.allowed_hosts[1]"],
    /^must be a host name without a port/,
  );
  assertYamlError("data_dir: ''\n", [1, 11, "data_dir"], /^must not be empty/);
});

test("TAPLINE_ADMIN_TOKEN is an admin token, withheld from the variables a unit file repeats", () => {
  const result = parseEnv({
    TAPLINE_ADMIN_TOKEN: ` ${ENV_TOKEN}\n`,
    TAPLINE_ADMIN_TOKEN_FILE: "/t",
    TAPLINE_DATA_DIR: "/d",
  });
  assert.deepEqual(result.layer.adminTokens, [{ token: ENV_TOKEN, scope: "admin", source: "TAPLINE_ADMIN_TOKEN" }]);
  assert.deepEqual(result.layer.globals, { adminTokenFile: "/t", dataDir: "/d" });
  assert.deepEqual(result.used, { TAPLINE_ADMIN_TOKEN_FILE: "/t", TAPLINE_DATA_DIR: "/d" });
  assert.deepEqual(result.withheld, ["TAPLINE_ADMIN_TOKEN"]);
  assert.deepEqual(parseEnv({ TAPLINE_ADMIN_TOKEN: "" }).layer.adminTokens, undefined);
});

test("an invalid TAPLINE_ADMIN_TOKEN is a config error that does not show the value", () => {
  assert.throws(() => parseEnv({ TAPLINE_ADMIN_TOKEN: "hunter2" }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.location.field, "TAPLINE_ADMIN_TOKEN");
    assert.match(error.message, /^Invalid TAPLINE_ADMIN_TOKEN: the token must be at least 16 characters/);
    assert.ok(!error.message.includes("hunter2"), error.message);
    return true;
  });
});

test("--print-systemd never writes TAPLINE_ADMIN_TOKEN into the unit", async () => {
  const command = await resolveCommandLine(
    ["--print-systemd", "--proxy", API, "--listen-admin", ":9090"],
    { TAPLINE_ADMIN_TOKEN: ENV_TOKEN, TAPLINE_LOG_LEVEL: "warn" },
    () => Promise.reject(new Error("no files")),
  );
  assert.equal(command.kind, "print-systemd");
  if (command.kind !== "print-systemd") return;
  assert.deepEqual(command.environment, { TAPLINE_LOG_LEVEL: "warn" });
  const unit = renderSystemdUnit({
    execStart: ["/usr/bin/node", "/opt/tapline/bin/tapline.js"],
    args: command.args,
    workingDirectory: "/srv",
    environment: command.environment,
    withheld: command.withheld,
  });
  assert.ok(!unit.includes(ENV_TOKEN), unit);
  assert.match(unit, /^Environment=TAPLINE_LOG_LEVEL=warn$/m);
  assert.match(unit, /^# TAPLINE_ADMIN_TOKEN is set but not written here/m);
  assert.doesNotMatch(unit, /^Environment=TAPLINE_ADMIN_TOKEN/m);
});

test("admin tokens come from the highest source that names any: flags > environment > YAML", async () => {
  const yaml = `${PROXIES}admin:\n  tokens: [{ token: ${YAML_TOKEN}, scope: read }]\n  token_file: yaml.tokens\n`;
  const yamlOnly = await config([], {}, yaml);
  assert.deepEqual(yamlOnly.adminTokens?.map((t) => t.token), [YAML_TOKEN]);
  assert.equal(yamlOnly.adminTokenFile, "yaml.tokens", "one source's token list and file go together");

  const envToken = await config([], { TAPLINE_ADMIN_TOKEN: ENV_TOKEN }, yaml);
  assert.deepEqual(envToken.adminTokens?.map((t) => t.token), [ENV_TOKEN]);
  assert.equal(envToken.adminTokenFile, undefined, "the environment replaces the YAML token file too");

  const envFile = await config([], { TAPLINE_ADMIN_TOKEN_FILE: "env.tokens" }, yaml);
  assert.equal(envFile.adminTokens, undefined, "the environment's file replaces the YAML tokens");
  assert.equal(envFile.adminTokenFile, "env.tokens");

  const envBoth = await config([], { TAPLINE_ADMIN_TOKEN: ENV_TOKEN, TAPLINE_ADMIN_TOKEN_FILE: "env.tokens" }, yaml);
  assert.deepEqual(envBoth.adminTokens?.map((t) => t.token), [ENV_TOKEN]);
  assert.equal(envBoth.adminTokenFile, "env.tokens");

  const flag = await config(["--admin-token-file", "flag.tokens"], { TAPLINE_ADMIN_TOKEN: ENV_TOKEN }, yaml);
  assert.equal(flag.adminTokens, undefined, "the flag replaces the environment's and the YAML's tokens");
  assert.equal(flag.adminTokenFile, "flag.tokens");

  const none = await config([]);
  assert.equal(none.adminTokens, undefined);
  assert.equal(none.adminTokenFile, undefined);
  assert.equal(none.dataDir, undefined, "absent: ./data at start-up");
});

test("--data-dir, TAPLINE_DATA_DIR and data_dir follow the usual precedence; allowed_hosts come from YAML", async () => {
  const yaml = `${PROXIES}data_dir: /yaml\nadmin:\n  allowed_hosts: ['*']\n`;
  assert.equal((await config([], {}, yaml)).dataDir, "/yaml");
  assert.equal((await config([], { TAPLINE_DATA_DIR: "/env" }, yaml)).dataDir, "/env");
  assert.equal((await config(["--data-dir", "/flag"], { TAPLINE_DATA_DIR: "/env" }, yaml)).dataDir, "/flag");
  assert.deepEqual((await config([], {}, yaml)).adminAllowedHosts, ["*"]);
});
