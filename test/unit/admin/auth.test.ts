import assert from "node:assert/strict";
import { test } from "node:test";
import { Hono } from "hono";
import { createAdminApp } from "../../../src/admin/app.ts";
import { type AdminEnv, authenticate, requireScope } from "../../../src/admin/auth.ts";
import { allowedHosts } from "../../../src/admin/host-check.ts";
import { TokenStore } from "../../../src/admin/tokens.ts";
import { Metrics } from "../../../src/core/metrics.ts";

const ADMIN = "admin-token-0123456789abcdef";
const READ = "read-token-0123456789abcdef";
const BUILD = { version: "0.1.0", runtime: "node", runtimeVersion: "v20.0.0" };

async function store(): Promise<TokenStore> {
  return await TokenStore.create([
    { token: ADMIN, scope: "admin", source: "a" },
    { token: READ, scope: "read", source: "r" },
  ]);
}

async function adminApp(extraHosts: string[] = []) {
  return createAdminApp({
    metrics: new Metrics(),
    build: BUILD,
    proxyCount: 1,
    healthPath: "/_health",
    metricsPath: "/_metrics",
    access: { tokens: await store(), hosts: allowedHosts("127.0.0.1", extraHosts) },
  });
}

interface Call {
  method?: string;
  token?: string;
  host?: string | null;
  authorization?: string;
}

/** A request as a client on 127.0.0.1 would send it (Host: 127.0.0.1:9090 unless `host` says otherwise). */
async function call(app: Hono<AdminEnv>, path: string, options: Call = {}) {
  const headers: Record<string, string> = {};
  if (options.host !== null) headers["host"] = options.host ?? "127.0.0.1:9090";
  if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`;
  if (options.authorization !== undefined) headers["authorization"] = options.authorization;
  const response = await app.request(`http://127.0.0.1:9090${path}`, { method: options.method ?? "GET", headers });
  const text = await response.text();
  return { response, text, json: () => JSON.parse(text) as { error: { code: string; message: string } } };
}

/** A JSON error with `code`, not cached, that never repeats a token. */
function assertError(result: Awaited<ReturnType<typeof call>>, status: number, code: string): void {
  assert.equal(result.response.status, status, result.text);
  assert.equal(result.response.headers.get("cache-control"), "no-store");
  assert.match(result.response.headers.get("content-type") ?? "", /^application\/json/);
  const body = result.json();
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.equal(body.error.code, code);
  assert.match(body.error.message, /^[A-Z]/, "sentence case");
  assert.ok(!result.text.includes(ADMIN) && !result.text.includes(READ), result.text);
}

test("without a token, or with an unknown or malformed one, every API path is 401 with a Bearer challenge", async () => {
  const app = await adminApp();
  for (const path of ["/api/whoami", "/", "/api/nothing-here", "/_health/", "/ui/assets/nothing-here"]) {
    const result = await call(app, path);
    assertError(result, 401, "unauthorized");
    assert.equal(result.response.headers.get("www-authenticate"), 'Bearer realm="tapline"', path);
    assert.match(result.json().error.message, /Authorization: Bearer/);
  }
  for (const token of ["wrong-token-0123456789abcdef", ADMIN.slice(0, -1), `${ADMIN}x`, READ.toUpperCase()]) {
    const result = await call(app, "/api/whoami", { token });
    assertError(result, 401, "unauthorized");
    assert.match(
      result.response.headers.get("www-authenticate") ?? "",
      /^Bearer realm="tapline", error="invalid_token"/,
    );
  }
  for (const authorization of [ADMIN, `Basic ${ADMIN}`, "Bearer", `Bearer ${ADMIN} ${ADMIN}`]) {
    assertError(await call(app, "/api/whoami", { authorization }), 401, "unauthorized");
  }
});

test("GET /api/whoami answers the token's scope, not cached", async () => {
  const app = await adminApp();
  for (const [token, scope] of [[ADMIN, "admin"], [READ, "read"]]) {
    const result = await call(app, "/api/whoami", { token });
    assert.equal(result.response.status, 200, result.text);
    assert.deepEqual(JSON.parse(result.text), { scope });
    assert.equal(result.response.headers.get("cache-control"), "no-store");
  }
  const lower = await call(app, "/api/whoami", { authorization: `bearer  ${READ}` });
  assert.equal(lower.response.status, 200, "the scheme is case-insensitive");
});

test("an unknown path is 404 only for a valid token", async () => {
  const app = await adminApp();
  assertError(await call(app, "/api/nothing-here"), 401, "unauthorized");
  assertError(await call(app, "/api/nothing-here", { token: ADMIN }), 404, "not_found");
  assertError(await call(app, "/api/nothing-here", { token: READ }), 404, "not_found");
});

test("a read token may not write: 403 with an insufficient_scope challenge", async () => {
  const app = await adminApp();
  for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
    const result = await call(app, "/api/whoami", { method, token: READ });
    assertError(result, 403, "forbidden");
    assert.equal(
      result.response.headers.get("www-authenticate"),
      'Bearer realm="tapline", error="insufficient_scope", scope="admin"',
    );
    assert.match(result.json().error.message, new RegExp(`^The read scope does not allow ${method} /api/whoami`));
    assertError(await call(app, "/api/whoami", { method, token: ADMIN }), 404, "not_found");
  }
});

test("requireScope: admin routes refuse read tokens, read routes take both, and it fails closed alone", async () => {
  const tokens = await store();
  const app = new Hono<AdminEnv>();
  app.get("/open/admin", requireScope("admin"), (c) => c.text("no authenticate before me"));
  app.use("/api/*", authenticate(tokens));
  app.get("/api/admin-only", requireScope("admin"), (c) => c.json({ ok: c.get("scope") }));
  app.get("/api/read", requireScope("read"), (c) => c.json({ ok: c.get("scope") }));
  const get = (path: string, token?: string) =>
    app.request(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  const refused = await get("/api/admin-only", READ);
  assert.equal(refused.status, 403);
  assert.equal((await refused.json() as { error: { code: string } }).error.code, "forbidden");
  assert.deepEqual(await (await get("/api/admin-only", ADMIN)).json(), { ok: "admin" });
  assert.deepEqual(await (await get("/api/read", READ)).json(), { ok: "read" });
  assert.deepEqual(await (await get("/api/read", ADMIN)).json(), { ok: "admin" });
  assert.equal((await get("/open/admin", ADMIN)).status, 401, "no scope without authenticate");
});

test("health and metrics need no token and answer any Host", async () => {
  const app = await adminApp();
  for (const path of ["/_health", "/_metrics"]) {
    for (const host of ["127.0.0.1:9090", "10.1.2.3:9090", "evil.example", null]) {
      const result = await call(app, path, { host });
      assert.equal(result.response.status, 200, `${path} with Host ${host}: ${result.text}`);
    }
  }
});

test("the API answers only allowed Host names: 403 host_not_allowed before authentication", async () => {
  const app = await adminApp(["tapline.internal"]);
  for (const host of ["localhost:9090", "127.0.0.1:9090", "[::1]:9090", "localhost", "tapline.internal:1"]) {
    assert.equal((await call(app, "/api/whoami", { host, token: ADMIN })).response.status, 200, host);
  }
  for (const host of ["evil.example", "evil.example:9090", "127.0.0.1.evil.example", "", null]) {
    const result = await call(app, "/api/whoami", { host, token: ADMIN });
    assertError(result, 403, "host_not_allowed");
    assert.match(result.json().error.message, /^Host not allowed/);
    assertError(await call(app, "/api/nothing-here", { host }), 403, "host_not_allowed");
  }
});

test("a token in the query string is refused with 400 on every path, pointing at the header", async () => {
  const app = await adminApp();
  const paths = [
    "/api/whoami?token=abc",
    "/api/whoami?access_token=abc",
    "/api/whoami?AUTH=abc",
    `/api/whoami?q=${READ}`,
    `/api/whoami?a=1&b=${encodeURIComponent(ADMIN)}`,
    `/api/whoami?${ADMIN}`,
    "/_health?token=abc",
    `/_metrics?x=${ADMIN}`,
    `/nowhere?x=${ADMIN}`,
  ];
  for (const path of paths) {
    const result = await call(app, path, { token: ADMIN });
    assertError(result, 400, "token_in_query");
    assert.match(result.json().error.message, /Authorization: Bearer <token>/, path);
  }
  assert.equal((await call(app, "/api/whoami?q=harmless", { token: ADMIN })).response.status, 200);
  assert.equal((await call(app, "/_health?probe=1")).response.status, 200);
});
