import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../../src/shared/errors.ts";
import { loadYamlConfig, parseYamlConfig } from "../../../src/config/yaml.ts";

/** Assert that parsing `yaml` fails at line:column with `field` and a message matching `message`. */
function assertYamlError(yaml: string, line: number, column: number, field: string | undefined, message: RegExp): void {
  assert.throws(() => parseYamlConfig(yaml, "t.yaml"), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.deepEqual(error.location, { file: "t.yaml", line, column, ...(field ? { field } : {}) });
    const prefix = `t.yaml:${line}:${column}: ${field ? `${field}: ` : ""}`;
    assert.ok(error.message.startsWith(prefix), `${error.message} should start with ${prefix}`);
    assert.match(error.message.slice(prefix.length), message);
    return true;
  });
}

const GOOD = `# tapline config
listen_admin: "127.0.0.1:9090"
max_body_size: 10MB
capture_memory: 1048576
capture_queue: 50
flush_interval: 250ms
shutdown_timeout: 5s
auto_cert: true
insecure_skip_verify: false
health_path: /h
metrics_path: /m
log_level: debug
log_format: text
proxies:
  - name: api
    upstream: http://localhost:3000/base
    listen_http: ":8080"
    listen_https: ":8443"
    log_jsonl: ./logs/
    include_path: "^/api/"
    exclude_path: ["^/api/health", "^/api/metrics"]
  - name: web
    upstream: https://example.com
    listen_http: 127.0.0.1:8081
`;

test("a full YAML file maps onto the config fields", () => {
  const layer = parseYamlConfig(GOOD, "t.yaml");
  assert.deepEqual(layer.globals, {
    listenAdmin: { host: "127.0.0.1", port: 9090, text: "127.0.0.1:9090" },
    maxBodySize: 10 * 1024 * 1024,
    captureMemoryBudget: 1048576,
    captureQueueSize: 50,
    flushInterval: 250,
    shutdownTimeout: 5000,
    autoCert: true,
    insecureSkipVerify: false,
    healthPath: "/h",
    metricsPath: "/m",
    logLevel: "debug",
    logFormat: "text",
  });
  const [api, web] = layer.proxies.map((p) => p.proxy);
  assert.equal(api?.logJsonl, "./logs/api.jsonl");
  assert.equal(api?.upstream.href, "http://localhost:3000/base");
  assert.deepEqual(api?.includePath, ["^/api/"]);
  assert.deepEqual(api?.excludePath, ["^/api/health", "^/api/metrics"]);
  assert.deepEqual(web?.listenHttp, { host: "127.0.0.1", port: 8081, text: "127.0.0.1:8081" });
  assert.equal(layer.origins.logLevel?.location?.line, 12);
});

test("an empty file is an empty layer", () => {
  const layer = parseYamlConfig("# nothing\n", "t.yaml");
  assert.deepEqual(layer.globals, {});
  assert.equal(layer.proxies.length, 0);
});

test("YAML syntax errors carry the line and column", () => {
  assertYamlError("proxies:\n  - name: a\n    upstream: [unclosed\n", 4, 1, undefined, /^invalid YAML: /);
  assertYamlError("log_level: info\nlog_level: debug\n", 2, 1, undefined, /^invalid YAML: .*unique/i);
});

test("unknown keys are named, at the key", () => {
  assertYamlError(
    "log_level: info\ncolour: red\n",
    2,
    1,
    "colour",
    /^unknown key "colour"; valid keys are listen_admin, max_body_size/,
  );
  assertYamlError(
    "proxies:\n  - name: a\n    upstream: http://x\n    listen_http: ':1'\n    colour: red\n",
    5,
    5,
    "proxies[0].colour",
    /^unknown key "colour"; valid keys are name, upstream/,
  );
  assertYamlError("s3:\n  bucket: b\n", 1, 1, "s3", /^"s3" is not supported in this version of tapline yet/);
  assertYamlError("retention: -3\n", 1, 12, "retention", /-1/);
  assertYamlError("sqlite: {}\n", 1, 1, "sqlite", /not supported in this version/);
});

test("schema errors point at the value", () => {
  assertYamlError("capture_queue: lots\n", 1, 16, "capture_queue", /^must be a whole number$/);
  assertYamlError("log_level: loud\n", 1, 12, "log_level", /^must be one of debug, info, warn, error, not "loud"$/);
  assertYamlError("auto_cert: yes\n", 1, 12, "auto_cert", /^must be true or false$/);
  assertYamlError("health_path: health\n", 1, 14, "health_path", /^must start with "\/"$/);
  assertYamlError("proxies: {}\n", 1, 10, "proxies", /^must be a list$/);
  assertYamlError(
    "proxies:\n  - name: a\n    upstream: http://x\n    listen_http: ':1'\n    include_path: {a: 1}\n",
    5,
    19,
    "proxies[0].include_path",
    /^must be a string or a list of strings$/,
  );
  assertYamlError(
    "proxies:\n  - name: a\n    listen_http: ':1'\n",
    2,
    5,
    "proxies[0]",
    /^missing required key "upstream"$/,
  );
  assertYamlError("- a\n- b\n", 1, 1, undefined, /^the config must be a mapping/);
});

test("semantic errors name file, line, column and field", () => {
  const two = (second: string) =>
    `proxies:\n  - name: api\n    upstream: http://localhost:3000\n    listen_http: ":8080"\n${second}`;
  assertYamlError(
    two("  - name: web\n    listen_http: ':8081'\n    upstream: ftp://x\n"),
    7,
    15,
    "proxies[1].upstream",
    /^invalid upstream "ftp:\/\/x": must be an absolute http or https URL$/,
  );
  assertYamlError(
    two("  - name: 1web\n    upstream: http://x\n    listen_http: ':8081'\n"),
    5,
    11,
    "proxies[1].name",
    /^invalid proxy name "1web": must start with a letter/,
  );
  assertYamlError(
    two("  - name: api\n    upstream: http://x\n    listen_http: ':8081'\n"),
    5,
    11,
    "proxies[1].name",
    /^duplicate proxy name "api" \(also used by t\.yaml:2:5: proxies\[0\]\)$/,
  );
  assertYamlError(
    two(
      "  - name: web\n    upstream: http://x\n    listen_http: ':8081'\n    include_path:\n      - ok\n      - '(bad'\n",
    ),
    10,
    9,
    "proxies[1].include_path[1]",
    /^invalid include_path regex "\(bad": /,
  );
  assertYamlError(
    two("  - name: web\n    upstream: http://x\n"),
    5,
    5,
    "proxies[1]",
    /^missing listener for proxy "web": give listen_http, listen_https or both/,
  );
  assertYamlError("max_body_size: 12XB\n", 1, 16, "max_body_size", /^invalid size "12XB": expected a number/);
  assertYamlError("flush_interval: 30\n", 1, 17, "flush_interval", /^must be a duration with a unit, such as "100ms"/);
  assertYamlError(
    "flush_interval: '30'\n",
    1,
    17,
    "flush_interval",
    /^invalid duration "30": expected a number with a unit/,
  );
  assertYamlError(
    "proxies:\n  - name: a\n    upstream: http://x\n    listen_http: 8080\n",
    4,
    18,
    "proxies[0].listen_http",
    /^must be a quoted address such as ":8080"/,
  );
  assertYamlError("listen_admin: '9090'\n", 1, 15, "listen_admin", /^invalid listen address "9090"/);
});

test("loadYamlConfig reads through the given reader and reports unreadable files", async () => {
  const layer = await loadYamlConfig("a.yaml", (path) => {
    assert.equal(path, "a.yaml");
    return Promise.resolve("log_level: warn\n");
  });
  assert.equal(layer.globals.logLevel, "warn");
  await assert.rejects(
    loadYamlConfig("missing.yaml", () => Promise.reject(new Error("ENOENT: no such file"))),
    { name: "ConfigError", message: 'Cannot read config file "missing.yaml": ENOENT: no such file' },
  );
});

test("found by fuzzing: an alias without its anchor, and a key with no name, are located config errors", () => {
  assertYamlError("admin:\n  *allowed\nproxies: []\n", 2, 3, undefined, /^invalid YAML: Unresolved alias/);
  assertYamlError("proxies: []\n: x\n", 2, 1, '[""]', /^unknown key ""/);
});

test("a proxy's http2 is a YAML boolean or on/off, and anything else names its line", () => {
  const yaml = (value: string) =>
    `proxies:\n  - name: api\n    upstream: http://localhost:3000\n    listen_http: ":8080"\n    http2: ${value}\n`;
  assert.equal(parseYamlConfig(yaml("false"), "t.yaml").proxies[0]?.proxy.http2, false);
  assert.equal(parseYamlConfig(yaml('"on"'), "t.yaml").proxies[0]?.proxy.http2, true);
  assert.throws(() => parseYamlConfig(yaml("maybe"), "t.yaml"), {
    name: "ConfigError",
    message: 't.yaml:5:12: proxies[0].http2: must be one of true, false, on, off, not "maybe"',
  });
});

test("grpc.descriptors is a list of files", () => {
  const config = parseYamlConfig("grpc:\n  descriptors: [a.binpb, b.binpb]\nproxies: []\n", "t.yaml");
  assert.deepEqual(config.grpcDescriptors, ["a.binpb", "b.binpb"]);
  assert.throws(() => parseYamlConfig("grpc:\n  descriptors: a.binpb\nproxies: []\n", "t.yaml"), /grpc\.descriptors/);
});

test("grpc.descriptors are relative to the YAML file, like plugin paths; absolute ones stay", () => {
  const layer = parseYamlConfig(
    "grpc:\n  descriptors: [./api.binpb, protos/b.binpb, /srv/c.binpb]\n",
    "/etc/tap/t.yaml",
  );
  assert.deepEqual(layer.grpcDescriptors, ["/etc/tap/api.binpb", "/etc/tap/protos/b.binpb", "/srv/c.binpb"]);
});
