import assert from "node:assert/strict";
import { test } from "node:test";
import { formatAddress } from "../../../src/shared/address.ts";
import { makeRoute } from "./fixture.ts";

test("shouldCapture captures every path when no include or exclude is set", () => {
  const { route } = makeRoute();
  assert.equal(route.shouldCapture("/"), true);
  assert.equal(route.shouldCapture("/anything/at/all"), true);
});

test("shouldCapture applies include first, then exclude", () => {
  const { route } = makeRoute({ includePath: ["^/api/", "^/v2/"], excludePath: ["^/api/health", "\\.png$"] });
  assert.equal(route.shouldCapture("/api/users"), true);
  assert.equal(route.shouldCapture("/v2/orders"), true);
  assert.equal(route.shouldCapture("/api/health"), false, "included, then excluded");
  assert.equal(route.shouldCapture("/api/logo.png"), false, "included, then excluded");
  assert.equal(route.shouldCapture("/static/app.js"), false, "not included");
  assert.equal(route.shouldCapture("/health"), false, "not included");
});

test("shouldCapture with only exclude patterns captures everything else", () => {
  const { route } = makeRoute({ excludePath: ["^/_internal"] });
  assert.equal(route.shouldCapture("/_internal/stats"), false);
  assert.equal(route.shouldCapture("/public"), true);
});

test("shouldCapture is false for every path on a route without sinks", () => {
  const { route } = makeRoute({ sinks: [], includePath: ["^/api/"] });
  assert.equal(route.shouldCapture("/api/users"), false);
  assert.equal(route.shouldCapture("/"), false);
});

test("begin matches include/exclude on the path without the query", () => {
  const { route } = makeRoute({ excludePath: ["/health$"] });
  const request = { method: "GET", headers: [], clientIp: "127.0.0.1", clientPort: 1, secure: false };
  const excluded = route.begin({ ...request, target: "/health?verbose=1" });
  const captured = route.begin({ ...request, target: "/users?q=/health" });
  assert.equal(excluded.capture, undefined);
  assert.notEqual(captured.capture, undefined);
  excluded.finish();
  captured.finish();
});

test("upstreamTarget prefixes the upstream's base path", () => {
  const { route } = makeRoute({ upstream: "http://127.0.0.1:9000/base/" });
  assert.equal(route.upstreamTarget("/users?id=1"), "/base/users?id=1");
  assert.equal(route.upstreamTarget("/"), "/base/");
  assert.equal(route.upstreamText, "http://127.0.0.1:9000/base");
});

test("upstreamTarget treats a base path without a trailing slash the same", () => {
  const { route } = makeRoute({ upstream: "http://127.0.0.1:9000/base" });
  assert.equal(route.upstreamTarget("/users"), "/base/users");
  assert.equal(route.upstreamText, "http://127.0.0.1:9000/base");
});

test("upstreamTarget passes targets through for an upstream without a path", () => {
  const { route } = makeRoute({ upstream: "http://127.0.0.1:9000" });
  assert.equal(route.upstreamTarget("/a/b?c=d"), "/a/b?c=d");
  assert.equal(route.upstreamText, "http://127.0.0.1:9000");
});

test("upstreamTarget reduces absolute-form targets to path and query", () => {
  const { route } = makeRoute({ upstream: "http://127.0.0.1:9000/base/" });
  assert.equal(route.upstreamTarget("http://elsewhere.test:8080/p/q?z=1"), "/base/p/q?z=1");
  assert.equal(route.upstreamTarget("http://elsewhere.test"), "/base/");
  assert.equal(makeRoute().route.upstreamTarget("https://x.test/only/path"), "/only/path");
});

test("upstreamTarget keeps the asterisk form of OPTIONS *", () => {
  assert.equal(makeRoute({ upstream: "http://127.0.0.1:9000/base/" }).route.upstreamTarget("*"), "*");
  assert.equal(makeRoute().route.upstreamTarget("*"), "*");
});

test("upstreamTarget turns a target that is neither a path nor a URL into a path", () => {
  assert.equal(makeRoute().route.upstreamTarget("relative"), "/relative");
});

test("formatAddress writes ip:port, IPv6 in brackets", () => {
  assert.equal(formatAddress("127.0.0.1", 51234), "127.0.0.1:51234");
  assert.equal(formatAddress("::1", 8080), "[::1]:8080");
  assert.equal(formatAddress("2001:db8::7", 443), "[2001:db8::7]:443");
});

test("formatAddress reduces IPv4-mapped IPv6 addresses to IPv4", () => {
  assert.equal(formatAddress("::ffff:127.0.0.1", 5555), "127.0.0.1:5555");
  assert.equal(formatAddress("::ffff:10.1.2.3", 1), "10.1.2.3:1");
});
