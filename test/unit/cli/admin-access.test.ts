import assert from "node:assert/strict";
import { test } from "node:test";
import { isHostAllowed } from "../../../src/admin/host-check.ts";
import { loadAdminAccess } from "../../../src/cli/admin-access.ts";
import type { Config } from "../../../src/config/types.ts";
import type { Runtime } from "../../../src/runtime/types.ts";
import { ConfigError, UnavailableError } from "../../../src/shared/errors.ts";
import { createLogger } from "../../../src/shared/logger.ts";

const FILE_ADMIN = "file-admin-token-0123456789";
const FILE_READ = "file-read-token-0123456789";
const ENV_TOKEN = "env-token-0123456789abcdef";

/** Files in memory, a fixed working directory and the log lines written. */
function fixture(files: Record<string, string> = {}, failCreate = false) {
  const lines: string[] = [];
  const created: string[] = [];
  const runtime = {
    cwd: () => "/work",
    readTextFile: (path: string) =>
      path in files ? Promise.resolve(files[path]!) : Promise.reject(new Error(`ENOENT: no such file, open '${path}'`)),
    createPrivateFile: (path: string, text: string) => {
      if (failCreate) return Promise.reject(new Error(`EACCES: permission denied, mkdir '${path}'`));
      if (path in files) return Promise.resolve(false);
      files[path] = text;
      created.push(path);
      return Promise.resolve(true);
    },
  } as unknown as Runtime;
  const logger = createLogger("debug", "json", (line) => lines.push(line));
  return { runtime, logger, lines, files, created };
}

function baseConfig(extra: Partial<Config> = {}): Config {
  return {
    listenAdmin: { host: "127.0.0.1", port: 0, text: "127.0.0.1:0" },
    ...extra,
  } as Config;
}

test("without configured tokens, an admin token is generated in <data dir>/admin_token and reused after", async () => {
  const f = fixture();
  const access = await loadAdminAccess(baseConfig(), f);
  assert.deepEqual(f.created, ["/work/data/admin_token"]);
  const token = f.files["/work/data/admin_token"]!.trim();
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.equal(await access.tokens.scopeOf(token), "admin");
  assert.equal(access.tokens.size, 1);
  assert.deepEqual(JSON.parse(f.lines[0]!).msg, "admin token generated");
  assert.deepEqual(JSON.parse(f.lines[0]!).file, "/work/data/admin_token");

  const again = await loadAdminAccess(baseConfig(), { runtime: f.runtime, logger: f.logger });
  assert.equal(f.created.length, 1, "not created twice");
  assert.equal(await again.tokens.scopeOf(token), "admin");
  assert.equal(JSON.parse(f.lines[1]!).msg, "admin token reused");
  assert.ok(!f.lines.join("\n").includes(token), "the token is never logged");
});

test("--data-dir decides where the token goes; relative paths are taken from the working directory", async () => {
  for (
    const [dataDir, file] of [["/var/lib/tapline/", "/var/lib/tapline/admin_token"], [
      "state",
      "/work/state/admin_token",
    ]]
  ) {
    const f = fixture();
    await loadAdminAccess(baseConfig({ dataDir }), f);
    assert.deepEqual(f.created, [file]);
  }
});

test("configured tokens (file and config) are used as they are and nothing is generated", async () => {
  const f = fixture({ "/etc/tokens": `${FILE_ADMIN}\nread:${FILE_READ}\n` });
  const access = await loadAdminAccess(
    baseConfig({
      adminTokenFile: "/etc/tokens",
      adminTokens: [{ token: ENV_TOKEN, scope: "admin", source: "TAPLINE_ADMIN_TOKEN" }],
    }),
    f,
  );
  assert.deepEqual(f.created, []);
  assert.equal(await access.tokens.scopeOf(FILE_ADMIN), "admin");
  assert.equal(await access.tokens.scopeOf(FILE_READ), "read");
  assert.equal(await access.tokens.scopeOf(ENV_TOKEN), "admin");
  const line = JSON.parse(f.lines[0]!) as Record<string, unknown>;
  assert.deepEqual(line, {
    ...line,
    msg: "admin tokens",
    from: ["TAPLINE_ADMIN_TOKEN", "/etc/tokens"],
    admin: 2,
    read: 1,
  });
  for (const token of [FILE_ADMIN, FILE_READ, ENV_TOKEN]) assert.ok(!f.lines.join("\n").includes(token));
});

test("an unreadable or wrong token file and an unwritable data dir stop start-up with a located message", async () => {
  await assert.rejects(loadAdminAccess(baseConfig({ adminTokenFile: "/nope" }), fixture()), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /^Cannot read the admin token file "\/nope": ENOENT/);
    return true;
  });
  const wrong = fixture({ "/t": `${FILE_ADMIN}\nwrite:${FILE_READ}\n` });
  await assert.rejects(loadAdminAccess(baseConfig({ adminTokenFile: "/t" }), wrong), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.message, "/t:2:1: scope: must be admin or read");
    return true;
  });
  const twice = fixture({ "/t": `${ENV_TOKEN}\n` });
  const env = [{ token: ENV_TOKEN, scope: "admin" as const, source: "TAPLINE_ADMIN_TOKEN" }];
  await assert.rejects(loadAdminAccess(baseConfig({ adminTokenFile: "/t", adminTokens: env }), twice), {
    name: "ConfigError",
    message: "The same admin token is configured twice: TAPLINE_ADMIN_TOKEN and /t:1:1",
  });
  await assert.rejects(loadAdminAccess(baseConfig(), fixture({}, true)), (error: unknown) => {
    assert.ok(error instanceof UnavailableError);
    assert.match(error.message, /^Failed to create the admin token file "\/work\/data\/admin_token": EACCES/);
    return true;
  });
});

test("the Host names come from the admin listener's address and admin.allowed_hosts", async () => {
  const f = fixture();
  const own = await loadAdminAccess(baseConfig({ listenAdmin: { host: "192.0.2.1", port: 9, text: "" } }), f);
  assert.ok(isHostAllowed("192.0.2.1:9", own.hosts));
  assert.ok(!isHostAllowed("tapline.internal", own.hosts));
  const extra = await loadAdminAccess(baseConfig({ adminAllowedHosts: ["tapline.internal"] }), f);
  assert.ok(isHostAllowed("tapline.internal", extra.hosts));
});
