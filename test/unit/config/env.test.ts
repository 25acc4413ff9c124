import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../../src/shared/errors.ts";
import { parseEnv } from "../../../src/config/env.ts";

test("TAPLINE_* variables set globals; empty ones count as unset", () => {
  const { layer, used } = parseEnv({
    TAPLINE_MAX_BODY_SIZE: "2MB",
    TAPLINE_LOG_LEVEL: "warn",
    TAPLINE_AUTO_CERT: "true",
    TAPLINE_LISTEN_ADMIN: ":9090",
    TAPLINE_CERT: "",
    PATH: "/usr/bin",
  });
  assert.deepEqual(layer.globals, {
    maxBodySize: 2 * 1024 * 1024,
    logLevel: "warn",
    autoCert: true,
    listenAdmin: { host: "", port: 9090, text: ":9090" },
  });
  assert.deepEqual(Object.keys(used).sort(), [
    "TAPLINE_AUTO_CERT",
    "TAPLINE_LISTEN_ADMIN",
    "TAPLINE_LOG_LEVEL",
    "TAPLINE_MAX_BODY_SIZE",
  ]);
});

test("TAPLINE_PROXY holds specs separated by ; or newlines", () => {
  const { layer } = parseEnv({
    TAPLINE_PROXY:
      "name=a,listen_http=:1,upstream=http://x;name=b,listen_http=:2,upstream=http://y\nname=c,listen_http=:3,upstream=http://z\n",
  });
  assert.deepEqual(layer.proxies.map((p) => p.proxy.name), ["a", "b", "c"]);
});

test("errors name the variable and are config errors", () => {
  assert.throws(() => parseEnv({ TAPLINE_MAX_BODY_SIZE: "lots" }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.exitCode, 78);
    assert.equal(error.location.field, "TAPLINE_MAX_BODY_SIZE");
    assert.match(error.message, /^Invalid TAPLINE_MAX_BODY_SIZE "lots": expected a number/);
    return true;
  });
  assert.throws(
    () =>
      parseEnv({ TAPLINE_PROXY: "name=a,listen_http=:1,upstream=http://x;name=9,listen_http=:2,upstream=http://y" }),
    {
      name: "ConfigError",
      message: /^Invalid proxy name "9" in TAPLINE_PROXY #2/,
    },
  );
  assert.throws(() => parseEnv({ TAPLINE_RETENTION: "-2" }), {
    name: "ConfigError",
    message: /TAPLINE_RETENTION.*expected -1 \(unlimited\) or a whole number/,
  });
});
