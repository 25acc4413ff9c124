import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, UsageError } from "../../../src/shared/errors.ts";
import { type CommandLine, resolveCommandLine } from "../../../src/config/load.ts";
import { listenersOverlap } from "../../../src/config/merge.ts";
import { parseListen } from "../../../src/config/listen.ts";

const API = "name=api,listen_http=:8080,upstream=http://localhost:3000";

/** A fake file system for readTextFile. */
function files(map: Record<string, string>) {
  return (path: string): Promise<string> => {
    const text = map[path];
    return text === undefined ? Promise.reject(new Error(`ENOENT: ${path}`)) : Promise.resolve(text);
  };
}

async function run(argv: string[], env: Record<string, string> = {}, fs: Record<string, string> = {}) {
  const result: CommandLine = await resolveCommandLine(argv, env, files(fs));
  assert.equal(result.kind, "run");
  return result as Extract<CommandLine, { kind: "run" }>;
}

test("defaults fill every field", async () => {
  const { config } = await run(["--proxy", API]);
  assert.deepEqual({ ...config, proxies: undefined }, {
    proxies: undefined,
    plugins: [],
    healthPath: "/_health",
    metricsPath: "/_metrics",
    maxBodySize: 100 * 1024 * 1024,
    captureMemoryBudget: 256 * 1024 * 1024,
    captureQueueSize: 10_000,
    workers: 1,
    captureThread: false,
    flushInterval: 100,
    shutdownTimeout: 30_000,
    autoCert: false,
    insecureSkipVerify: true,
    logLevel: "info",
    logFormat: "json",
    rotateSize: 100 * 1024 * 1024,
    sqliteEngine: "sqljs",
    sqliteFlush: 1000,
    adminViewer: true,
    metricsCompat: true,
    s3KeyTemplate: "{prefix}route={route}/date={date}/hour={hour}/{instance}-{timestamp}-{seq}.{ext}",
    s3Compress: "gzip",
    s3Format: "jsonl",
    exportMaxSize: 100 * 1024 ** 2,
    rotateInterval: 60 * 60 * 1000,
    retention: 10,
  });
  assert.equal(config.listenAdmin, undefined);
  assert.equal(config.proxies[0]?.name, "api");
});

test("precedence is defaults < YAML < env < flags", async () => {
  const yaml = [
    "max_body_size: 1MB",
    "capture_queue: 7",
    "log_level: warn",
    "log_format: text",
    "proxies:",
    "  - name: api",
    "    upstream: http://yaml",
    "    listen_http: ':1001'",
    "  - name: yamlonly",
    "    upstream: http://yaml",
    "    listen_http: ':1002'",
  ].join("\n");
  const result = await run(
    ["--config", "c.yaml", "--log-level", "debug", "--proxy", "name=web,listen_http=:1004,upstream=http://flag"],
    {
      TAPLINE_MAX_BODY_SIZE: "2MB",
      TAPLINE_LOG_LEVEL: "error",
      TAPLINE_PROXY: "name=api,listen_http=:1003,upstream=http://env",
    },
    { "c.yaml": yaml },
  );
  const { config } = result;
  assert.equal(result.configFile, "c.yaml");
  assert.equal(config.captureQueueSize, 7); // YAML over default
  assert.equal(config.logFormat, "text");
  assert.equal(config.maxBodySize, 2 * 1024 * 1024); // env over YAML
  assert.equal(config.logLevel, "debug"); // flag over env and YAML
  assert.equal(config.shutdownTimeout, 30_000); // default
  // Same name replaces in place; new names append.
  assert.deepEqual(config.proxies.map((p) => [p.name, p.upstream.host, p.listenHttp?.port]), [
    ["api", "env", 1003],
    ["yamlonly", "yaml", 1002],
    ["web", "flag", 1004],
  ]);
});

test("a flag proxy replaces a YAML proxy of the same name", async () => {
  const { config } = await run(
    ["--config", "c.yaml", "--proxy", "name=api,listen_http=:2000,upstream=http://flag"],
    {},
    { "c.yaml": "proxies:\n  - name: api\n    upstream: http://yaml\n    listen_http: ':2000'\n" },
  );
  assert.equal(config.proxies.length, 1);
  assert.equal(config.proxies[0]?.upstream.host, "flag");
});

test("TAPLINE_CONFIG names the file, and --config overrides it", async () => {
  const fs = { "env.yaml": "log_level: warn\n", "flag.yaml": "log_level: error\n" };
  assert.equal((await run(["--proxy", API], { TAPLINE_CONFIG: "env.yaml" }, fs)).config.logLevel, "warn");
  assert.equal(
    (await run(["--proxy", API, "--config", "flag.yaml"], { TAPLINE_CONFIG: "env.yaml" }, fs)).config.logLevel,
    "error",
  );
});

test("help, version and print-systemd", async () => {
  const help = await resolveCommandLine(["--help"], {}, files({}));
  assert.equal(help.kind, "help");
  assert.match((help as { text: string }).text, /--max-body-size SIZE/);
  assert.deepEqual(await resolveCommandLine(["-version"], {}, files({})), { kind: "version" });
  const systemd = await resolveCommandLine(
    ["--print-systemd", "--proxy", API],
    { TAPLINE_LOG_LEVEL: "warn" },
    files({}),
  );
  assert.equal(systemd.kind, "print-systemd");
  if (systemd.kind !== "print-systemd") return;
  assert.deepEqual(systemd.args, ["--proxy", API]);
  assert.deepEqual(systemd.environment, { TAPLINE_LOG_LEVEL: "warn" });
  assert.equal(systemd.config.logLevel, "warn");
});

test("no proxy at all is a usage error", async () => {
  await assert.rejects(resolveCommandLine([], {}, files({})), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /^No proxy configured/);
    return true;
  });
});

test("listeners on the same port conflict across proxies and the admin port", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["--proxy", API, "--proxy", "name=b,listen_http=127.0.0.1:8080,upstream=http://x"],
      /^--proxy #2 listen_http: listen address 127\.0\.0\.1:8080 of proxy "b" listen_http conflicts with proxy "api" listen_http on :8080 \(--proxy #1 listen_http\)$/,
    ],
    [
      ["--proxy", API, "--listen-admin", "0.0.0.0:8080"],
      /^--proxy #1 listen_http: .*conflicts with the admin listener/,
    ],
    [
      ["--auto-cert", "--proxy", "name=a,listen_http=:9000,listen_https=:9000,upstream=http://x"],
      /listen_https: .*conflicts with proxy "a" listen_http/,
    ],
  ];
  for (const [argv, message] of cases) {
    await assert.rejects(resolveCommandLine(argv, {}, files({})), { name: "UsageError", message }, argv.join(" "));
  }
  // Different hosts on one port, and port 0, never conflict.
  await run([
    "--proxy",
    "name=a,listen_http=127.0.0.1:8080,upstream=http://x",
    "--proxy",
    "name=b,listen_http=127.0.0.2:8080,upstream=http://x",
  ]);
  await run([
    "--proxy",
    "name=a,listen_http=:0,upstream=http://x",
    "--proxy",
    "name=b,listen_http=:0,upstream=http://x",
    "--listen-admin",
    ":0",
  ]);
});

test("a conflict found in YAML names the file and line", async () => {
  const yaml = "listen_admin: ':8080'\nproxies:\n  - name: a\n    upstream: http://x\n    listen_http: ':8080'\n";
  await assert.rejects(resolveCommandLine(["--config", "c.yaml"], {}, files({ "c.yaml": yaml })), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.location, { file: "c.yaml", line: 5, column: 18, field: "proxies[0].listen_http" });
    assert.match(
      error.message,
      /^c\.yaml:5:18: proxies\[0\]\.listen_http: listen address :8080 .* conflicts with the admin listener on :8080 \(c\.yaml:1:15: listen_admin\)$/,
    );
    return true;
  });
});

test("TLS settings must be complete", async () => {
  const https = "name=s,listen_https=:8443,upstream=http://x";
  await assert.rejects(resolveCommandLine(["--proxy", https], {}, files({})), {
    message: /^--proxy #1 listen_https: proxy "s" listens for HTTPS but has no certificate/,
  });
  await assert.rejects(resolveCommandLine(["--proxy", API, "--cert", "c.pem"], {}, files({})), {
    message: /^--cert: a certificate needs a key/,
  });
  await assert.rejects(resolveCommandLine(["--proxy", API, "--key", "k.pem"], {}, files({})), {
    message: /^--key: a key needs a certificate/,
  });
  await assert.rejects(
    resolveCommandLine(["--proxy", API, "--cert", "c.pem", "--key", "k.pem"], { TAPLINE_AUTO_CERT: "true" }, files({})),
    { name: "ConfigError", message: /^TAPLINE_AUTO_CERT: give either a certificate/ },
  );
  assert.equal((await run(["--proxy", https, "--auto-cert"])).config.autoCert, true);
  assert.equal((await run(["--proxy", https, "--cert", "c.pem", "--key", "k.pem"])).config.cert, "c.pem");
});

test("health and metrics paths must differ", async () => {
  await assert.rejects(resolveCommandLine(["--proxy", API, "--metrics-path", "/_health"], {}, files({})), {
    message: '--metrics-path: the health and metrics paths must differ (both are "/_health")',
  });
});

test("errors in flags are reported before the config file is read", async () => {
  let reads = 0;
  await assert.rejects(
    resolveCommandLine(["--config", "c.yaml", "--bogus"], {}, () => {
      reads++;
      return Promise.resolve("");
    }),
    { name: "UsageError", message: /Unknown flag --bogus/ },
  );
  assert.equal(reads, 0);
});

test("listenersOverlap treats empty host, 0.0.0.0 and :: as every interface", () => {
  const l = parseListen;
  assert.equal(listenersOverlap(l(":80"), l("127.0.0.1:80")), true);
  assert.equal(listenersOverlap(l("0.0.0.0:80"), l("[::1]:80")), true);
  assert.equal(listenersOverlap(l("[::]:80"), l("10.0.0.1:80")), true);
  assert.equal(listenersOverlap(l("127.0.0.1:80"), l("127.0.0.1:81")), false);
  assert.equal(listenersOverlap(l("127.0.0.1:80"), l("127.0.0.2:80")), false);
  assert.equal(listenersOverlap(l(":0"), l(":0")), false);
});
