import assert from "node:assert/strict";
import { test } from "node:test";
import { allowedHostProblem, allowedHosts, hostNameOf, isHostAllowed } from "../../../src/admin/host-check.ts";

test("hostNameOf drops the port, lowers the case and the trailing dot, keeps IPv6 brackets", () => {
  const names = [
    ["localhost:9090", "localhost"],
    ["LocalHost.", "localhost"],
    ["127.0.0.1", "127.0.0.1"],
    ["[::1]:9090", "[::1]"],
    ["[::1]", "[::1]"],
  ];
  for (const [header, name] of names) assert.equal(hostNameOf(header!), name, header);
  for (const bad of ["", "::1", "a b", "host:port", "host:99999999", "[::1", "user@host:1:2"]) {
    assert.equal(hostNameOf(bad), undefined, bad);
  }
});

test("a wildcard listener answers only the loopback names", () => {
  for (const bind of ["", "0.0.0.0", "::"]) {
    const allowed = allowedHosts(bind, []);
    for (const host of ["localhost", "localhost:9090", "127.0.0.1:9090", "[::1]:9090", "LOCALHOST"]) {
      assert.ok(isHostAllowed(host, allowed), `${host} on "${bind}"`);
    }
    for (const host of ["evil.example", "evil.example:9090", "0.0.0.0:9090", "[::]:9090", "localhost.evil.example"]) {
      assert.ok(!isHostAllowed(host, allowed), `${host} on "${bind}"`);
    }
    assert.ok(!isHostAllowed(undefined, allowed), "a request without Host");
  }
});

test("a listener bound to one address also answers that address, and allowed_hosts adds names", () => {
  const own = allowedHosts("192.0.2.7", []);
  assert.ok(isHostAllowed("192.0.2.7:9090", own));
  assert.ok(!isHostAllowed("192.0.2.8:9090", own));
  assert.ok(isHostAllowed("[::1]:1", allowedHosts("::1", [])));
  const extra = allowedHosts("", ["Tapline.Internal", "[fd00::1]"]);
  assert.ok(isHostAllowed("tapline.internal:9090", extra));
  assert.ok(isHostAllowed("[fd00::1]:9090", extra));
  assert.ok(isHostAllowed("localhost", extra), "the loopback names stay allowed");
  assert.ok(!isHostAllowed("other.internal", extra));
  const any = allowedHosts("", ["tapline.internal", "*"]);
  assert.equal(any, "any");
  assert.ok(isHostAllowed("evil.example", any));
  assert.ok(isHostAllowed(undefined, any));
});

test("allowed_hosts entries must be host names without a port, or *", () => {
  for (const good of ["*", "tapline.internal", "tapline.internal.", "10.0.0.1", "[::1]", "my_host"]) {
    assert.equal(allowedHostProblem(good), undefined, good);
  }
  assert.match(allowedHostProblem("tapline.internal:9090")!, /without a port/);
  assert.match(allowedHostProblem("::1")!, /IPv6 addresses in brackets/);
  for (const bad of ["http://x", "a b", "-x", "*.example.com"]) {
    assert.match(allowedHostProblem(bad)!, /host name/, bad);
  }
});
