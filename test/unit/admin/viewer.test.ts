import assert from "node:assert/strict";
import { test } from "node:test";
import { createAdminApp } from "../../../src/admin/app.ts";
import { allowedHosts } from "../../../src/admin/host-check.ts";
import type { PluginControl, PluginView } from "../../../src/admin/plugin-control.ts";
import { TokenStore } from "../../../src/admin/tokens.ts";
import { VIEWER_CSP, viewerUrl } from "../../../src/admin/viewer.ts";
import { VIEWER_ASSETS } from "../../../src/admin/viewer-assets.ts";
import { Metrics } from "../../../src/core/metrics.ts";
import { PluginMetrics } from "../../../src/plugins/metrics.ts";

const ADMIN = "admin-token-0123456789abcdef";
const READ = "read-token-0123456789abcdef";

const PLUGIN: PluginView = {
  id: "redact",
  use: "redaction",
  name: "redaction",
  version: "1.0.0",
  sha256: "00",
  hooks: ["onCapture"],
  fail: "open",
  limits: {},
  config: { secret_pattern: "hunter2" },
  disabled: false,
  counters: new PluginMetrics("redact"),
};

const control: PluginControl = {
  list: () => ({ generation: 3, plugins: [PLUGIN] }),
  types: () => Promise.resolve([]),
  entries: () => [],
  validate: () => Promise.resolve(),
  apply: () => Promise.resolve({ generation: 4, persisted: true }),
  reset: () => Promise.resolve({ generation: 4, persisted: true }),
};

async function adminApp(viewer?: boolean) {
  return createAdminApp({
    metrics: new Metrics(),
    build: { version: "0.1.0", runtime: "node", runtimeVersion: "v20.0.0" },
    proxyCount: 1,
    healthPath: "/_health",
    metricsPath: "/_metrics",
    pluginControl: control,
    access: {
      tokens: await TokenStore.create([
        { token: ADMIN, scope: "admin", source: "a" },
        { token: READ, scope: "read", source: "r" },
      ]),
      hosts: allowedHosts("127.0.0.1", []),
    },
    ...(viewer === undefined ? {} : { viewer }),
  });
}

function get(app: Awaited<ReturnType<typeof adminApp>>, path: string, headers: Record<string, string> = {}) {
  return app.request(`http://127.0.0.1:9090${path}`, { headers: { host: "127.0.0.1:9090", ...headers } });
}

test("the viewer's page, script and stylesheet are served without a token, under a strict CSP", async () => {
  const app = await adminApp();
  for (
    const [path, type, name] of [
      ["/ui/", /^text\/html/, "index.html"],
      ["/ui/assets/viewer.js", /^text\/javascript/, "viewer.js"],
      ["/ui/assets/viewer.css", /^text\/css/, "viewer.css"],
    ] as const
  ) {
    const response = await get(app, path);
    assert.equal(response.status, 200, path);
    assert.match(response.headers.get("content-type") ?? "", type, path);
    assert.equal(response.headers.get("content-security-policy"), VIEWER_CSP);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    assert.equal(response.headers.get("x-frame-options"), "DENY");
    assert.equal(response.headers.get("etag"), VIEWER_ASSETS[name]!.etag);
    assert.equal(await response.text(), VIEWER_ASSETS[name]!.body);
  }
  assert.doesNotMatch(VIEWER_CSP, /unsafe-inline|unsafe-eval|\*/);
  assert.match(VIEWER_CSP, /script-src 'self'/);
});

test("the viewer's files answer 304 to a matching If-None-Match", async () => {
  const app = await adminApp();
  const etag = VIEWER_ASSETS["viewer.js"]!.etag;
  const response = await get(app, "/ui/assets/viewer.js", { "if-none-match": `W/${etag}` });
  assert.equal(response.status, 304);
  assert.equal(await response.text(), "");
});

test("/ui redirects to /ui/; unknown viewer files and every API route still need a token", async () => {
  const app = await adminApp();
  const redirect = await get(app, "/ui");
  assert.equal(redirect.status, 308);
  assert.equal(redirect.headers.get("location"), "/ui/");
  assert.equal((await get(app, "/ui/assets/secret.txt")).status, 401);
  assert.equal((await get(app, "/ui/assets/index.html")).status, 401);
  assert.equal((await get(app, "/api/traces")).status, 401);
});

test("the viewer answers only allowed Host names, like the API", async () => {
  const response = await get(await adminApp(), "/ui/", { host: "rebound.example:9090" });
  assert.equal(response.status, 403);
});

test("admin.viewer: false serves no viewer", async () => {
  const app = await adminApp(false);
  assert.equal((await get(app, "/ui/")).status, 401);
  assert.equal((await get(app, "/ui/", { authorization: `Bearer ${ADMIN}` })).status, 404);
});

test("a read token lists the running plugins without their configs; an admin token sees the configs", async () => {
  const app = await adminApp();
  const read = await get(app, "/api/plugins", { authorization: `Bearer ${READ}` });
  assert.equal(read.status, 200);
  assert.equal(read.headers.get("etag"), '"3"');
  const readBody = await read.json() as { generation: number; plugins: Record<string, unknown>[] };
  assert.equal(readBody.generation, 3);
  assert.equal(readBody.plugins[0]!["id"], "redact");
  assert.ok(readBody.plugins[0]!["counters"] !== undefined);
  assert.ok(!("config" in readBody.plugins[0]!), "no config for a read token");
  const admin = await (await get(app, "/api/plugins", { authorization: `Bearer ${ADMIN}` })).json() as {
    plugins: Record<string, unknown>[];
  };
  assert.deepEqual(admin.plugins[0]!["config"], { secret_pattern: "hunter2" });
  for (const path of ["/api/plugins/types"]) {
    assert.equal((await get(app, path, { authorization: `Bearer ${READ}` })).status, 403, path);
  }
  const put = await app.request("http://127.0.0.1:9090/api/plugins", {
    method: "PUT",
    body: "plugins: []",
    headers: { host: "127.0.0.1:9090", authorization: `Bearer ${READ}` },
  });
  assert.equal(put.status, 403);
});

test("viewerUrl names the loopback address for a wildcard bind", () => {
  assert.equal(viewerUrl("0.0.0.0:9090"), "http://127.0.0.1:9090/ui/");
  assert.equal(viewerUrl("[::]:9090"), "http://127.0.0.1:9090/ui/");
  assert.equal(viewerUrl("127.0.0.1:41000"), "http://127.0.0.1:41000/ui/");
  assert.equal(viewerUrl("[::1]:9090"), "http://[::1]:9090/ui/");
});
