import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { callOk, type LoadedExample, loadExample, setupOk } from "./fixture.ts";

function request(path: string, query = ""): Record<string, unknown> {
  return {
    id: "0b7f7a4e-5a43-4d7e-9d0c-6f0d1c2b3a41",
    route: "api",
    method: "GET",
    url: query ? `${path}?${query}` : path,
    path,
    query,
    headers: { host: "example.test", accept: "application/json" },
    client_ip: "127.0.0.1:53122",
  };
}

describe("examples/plugins/block-path.js", () => {
  let example: LoadedExample;
  before(async () => {
    example = await loadExample("block-path");
  });
  after(() => example.sandbox.dispose());

  const onRequest = (path: string, query = "") => callOk(example.sandbox, "onRequest", request(path, query));

  test("answers a blocked prefix with a JSON 403", () => {
    setupOk(example.sandbox, { prefixes: ["/admin", "/internal/"] });
    assert.deepEqual(onRequest("/admin/users", "page=2"), {
      respond: {
        status: 403,
        headers: { "content-type": "application/json", "cache-control": "no-store" },
        body: '{"error":"Forbidden","path":"/admin/users","request_id":"0b7f7a4e-5a43-4d7e-9d0c-6f0d1c2b3a41"}',
      },
    });
  });

  test("matches whole segments, after decoding and normalising the path", () => {
    setupOk(example.sandbox, { prefixes: ["/admin", "/internal/"] });
    for (
      const path of ["/admin", "/admin/", "/internal", "/internal/metrics", "//admin", "/%61dmin/x", "/a/../admin"]
    ) {
      assert.ok(onRequest(path), `${path} is blocked`);
    }
    for (const path of ["/", "/administrators", "/api/admin", "/internals", "/%zz"]) {
      assert.equal(onRequest(path), undefined, `${path} passes`);
    }
  });

  test("status and message come from the config", () => {
    setupOk(example.sandbox, { prefixes: ["/old"], status: 410, message: "Gone for good" });
    const result = onRequest("/old/page") as { respond: { status: number; body: string } };
    assert.equal(result.respond.status, 410);
    assert.equal(JSON.parse(result.respond.body).error, "Gone for good");
  });

  test("the manifest's config_schema requires prefixes", () => {
    const manifest = example.sandbox.manifest as { config_schema: { required: string[] }; fail: string };
    assert.deepEqual(manifest.config_schema.required, ["prefixes"]);
    assert.equal(manifest.fail, "closed");
  });
});
