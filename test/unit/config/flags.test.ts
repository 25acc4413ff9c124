import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFlags } from "../../../src/config/flags.ts";

const SPEC = "name=api,listen_http=:8080,upstream=http://localhost:3000";

test("space and = forms, single and double dash all set the same flag", () => {
  for (
    const argv of [
      ["--max-body-size", "1MB"],
      ["--max-body-size=1MB"],
      ["-max-body-size", "1MB"],
      ["-max-body-size=1MB"],
    ]
  ) {
    assert.equal(parseFlags(argv).layer.globals.maxBodySize, 1024 * 1024, argv.join(" "));
  }
});

test("every global flag parses into its Config field", () => {
  const { layer } = parseFlags([
    "--listen-admin",
    "127.0.0.1:9090",
    "--cert",
    "c.pem",
    "--key=k.pem",
    "--health-path",
    "/h",
    "--metrics-path=/m",
    "--log-level",
    "debug",
    "--log-format",
    "text",
    "--capture-memory",
    "64MB",
    "--capture-queue",
    "5",
    "--flush-interval",
    "1s",
    "--shutdown-timeout",
    "1m",
  ]);
  assert.deepEqual(layer.globals, {
    listenAdmin: { host: "127.0.0.1", port: 9090, text: "127.0.0.1:9090" },
    cert: "c.pem",
    key: "k.pem",
    healthPath: "/h",
    metricsPath: "/m",
    logLevel: "debug",
    logFormat: "text",
    captureMemoryBudget: 64 * 1024 * 1024,
    captureQueueSize: 5,
    flushInterval: 1000,
    shutdownTimeout: 60_000,
  });
});

test("booleans take no separate value but accept =false", () => {
  assert.equal(parseFlags(["--auto-cert"]).layer.globals.autoCert, true);
  assert.equal(parseFlags(["-auto-cert=false"]).layer.globals.autoCert, false);
  assert.equal(parseFlags(["--insecure-skip-verify=false"]).layer.globals.insecureSkipVerify, false);
  assert.equal(parseFlags(["--insecure-skip-verify"]).layer.globals.insecureSkipVerify, true);
  // Like Go, a bool flag does not consume the next argument.
  assert.throws(() => parseFlags(["--auto-cert", "false"]), /Unexpected argument "false"/);
  assert.throws(() => parseFlags(["--auto-cert=maybe"]), /Invalid --auto-cert "maybe": expected true or false/);
});

test("--proxy repeats and counts from #1 in messages", () => {
  const result = parseFlags(["--proxy", SPEC, "-proxy=name=web,listen_http=:8081,upstream=http://localhost:4000"]);
  assert.deepEqual(result.layer.proxies.map((p) => p.proxy.name), ["api", "web"]);
  assert.throws(() => parseFlags(["--proxy", SPEC, "--proxy", "name=2x,upstream=http://x,listen_http=:1"]), {
    message: /in --proxy #2/,
  });
});

test("duplicate proxy names on the command line are an error", () => {
  assert.throws(() => parseFlags(["--proxy", SPEC, "--proxy", SPEC.replace("8080", "8081")]), {
    name: "UsageError",
    message: '--proxy #2 name: duplicate proxy name "api" (also used by --proxy #1)',
  });
});

test("help, version, config and print-systemd", () => {
  assert.equal(parseFlags(["-h"]).help, true);
  assert.equal(parseFlags(["--help", "--nonsense"]).help, true);
  assert.equal(parseFlags(["--version"]).version, true);
  assert.equal(parseFlags(["--config", "a.yaml"]).configFile, "a.yaml");
  const systemd = parseFlags(["--proxy", SPEC, "--print-systemd", "--log-level=warn"]);
  assert.equal(systemd.printSystemd, true);
  assert.deepEqual(systemd.args, ["--proxy", SPEC, "--log-level=warn"]);
});

test("unknown, unsupported and malformed flags are usage errors", () => {
  assert.throws(() => parseFlags(["--colour", "red"]), {
    name: "UsageError",
    message: "Unknown flag --colour (see --help for the list of flags)",
  });
  assert.throws(() => parseFlags(["--s3-endpoint=minio:9000"]), {
    name: "UsageError",
    message: /^Invalid --s3-endpoint "minio:9000": must be an absolute http or https URL/,
  });
  assert.throws(() => parseFlags(["--retention=all"]), { name: "UsageError", message: /--retention/ });
  assert.throws(() => parseFlags(["--rotate-interval=0s"]), { name: "UsageError", message: /greater than 0/ });
  assert.throws(() => parseFlags(["--max-body-size"]), { message: "Flag --max-body-size needs a value (see --help)" });
  assert.throws(() => parseFlags(["--max-body-size", "12XB"]), {
    message: 'Invalid --max-body-size "12XB": expected a number with an optional unit B, KB, MB or GB',
  });
  assert.throws(() => parseFlags(["--log-level", "loud"]), {
    message: /Invalid --log-level "loud": expected one of debug, info, warn, error/,
  });
  assert.throws(() => parseFlags(["--health-path", "health"]), { message: /must start with "\/"/ });
  assert.throws(() => parseFlags(["--capture-queue", "0"]), { message: /Invalid --capture-queue "0"/ });
  assert.throws(() => parseFlags(["--flush-interval", "0"]), { message: /must be greater than 0/ });
  assert.throws(() => parseFlags(["stray"]), { message: /Unexpected argument "stray"/ });
});

test("rotation, retention and S3 flags are parsed", () => {
  const { layer } = parseFlags([
    "--rotate-size=10MB",
    "--rotate-interval=15m",
    "--retention=-1",
    "--s3-bucket=captures",
    "--s3-prefix=tapline/",
    "--s3-endpoint=http://127.0.0.1:9000/",
    "--s3-region=eu-west-1",
  ]);
  assert.deepEqual(layer.globals, {
    rotateSize: 10 * 1024 * 1024,
    rotateInterval: 15 * 60 * 1000,
    retention: -1,
    s3Bucket: "captures",
    s3Prefix: "tapline/",
    s3Endpoint: "http://127.0.0.1:9000",
    s3Region: "eu-west-1",
  });
});

test("--service, http-tap-proxy's Windows service flag, is refused with what to use instead", () => {
  for (const argv of [["--service"], ["--service=install"], ["-service", "install"]]) {
    assert.throws(() => parseFlags(argv), {
      name: "UsageError",
      message: /^Flag --service is not supported: .*--print-systemd/,
    });
  }
});

test("--grpc-descriptors is repeatable and kept in order", () => {
  const { layer, args } = parseFlags(["--grpc-descriptors", "a.binpb", "--grpc-descriptors=b.binpb"]);
  assert.deepEqual(layer.grpcDescriptors, ["a.binpb", "b.binpb"]);
  assert.deepEqual(args, ["--grpc-descriptors", "a.binpb", "--grpc-descriptors=b.binpb"]);
  assert.throws(() => parseFlags(["--grpc-descriptors="]), /--grpc-descriptors needs a file path/);
});
