import assert from "node:assert/strict";
import { test } from "node:test";
import { pluginHeaders, requestView } from "../../../src/core/hook-views.ts";

test("pluginHeaders lower-cases names and joins repeated values in order", () => {
  assert.deepEqual(
    pluginHeaders(["Accept", "a", "Host", "h", "ACCEPT", "b", "x-empty", "", "accept", "c"]),
    { accept: "a, b, c", host: "h", "x-empty": "" },
  );
  assert.deepEqual(pluginHeaders([]), {});
});

test("requestView splits the target into path and query", () => {
  const request = {
    method: "GET",
    target: "/a/b?x=1&y",
    headers: ["Host", "h"],
    clientIp: "::1",
    clientPort: 9,
    secure: false,
  };
  assert.deepEqual(requestView("id-1", "api", request), {
    id: "id-1",
    route: "api",
    method: "GET",
    url: "/a/b?x=1&y",
    path: "/a/b",
    query: "x=1&y",
    headers: { host: "h" },
    client_ip: "::1",
  });
  assert.equal(requestView("id-2", "api", { ...request, target: "/plain" }).query, "");
});
