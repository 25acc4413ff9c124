import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveCommandLine } from "../../../src/config/load.ts";
import { demoConfigYaml } from "../../../src/demo/config.ts";

test("the demo's configuration passes the loader and the schema, with the quickstart's three plugins", async () => {
  const yaml = demoConfigYaml({
    listen: "127.0.0.1:0",
    upstream: "http://127.0.0.1:3000",
    listenAdmin: "127.0.0.1:0",
    dataDir: '/tmp/demo data/with "quotes"',
  });
  const command = await resolveCommandLine(
    ["--config", "/virtual/demo.yaml"],
    {},
    (path) => path === "/virtual/demo.yaml" ? Promise.resolve(yaml) : Promise.reject(new Error(`read ${path}`)),
  );
  assert.equal(command.kind, "run");
  if (command.kind !== "run") return;
  const [proxy] = command.config.proxies;
  assert.equal(proxy?.logJsonl, '/tmp/demo data/with "quotes"/app.jsonl');
  assert.equal(proxy?.logSqlite, '/tmp/demo data/with "quotes"/app.db');
  assert.deepEqual(command.config.plugins.map((p) => p.use), ["path-filter", "text-replace", "redaction"]);
});
