import assert from "node:assert/strict";
import { test } from "node:test";
import { formatListen, parseListen } from "../../../src/config/listen.ts";

test("parseListen splits host and port", () => {
  assert.deepEqual(parseListen(":8080"), { host: "", port: 8080, text: ":8080" });
  assert.deepEqual(parseListen("127.0.0.1:8080"), { host: "127.0.0.1", port: 8080, text: "127.0.0.1:8080" });
  assert.deepEqual(parseListen("localhost:80"), { host: "localhost", port: 80, text: "localhost:80" });
  assert.deepEqual(parseListen("[::1]:8080"), { host: "::1", port: 8080, text: "[::1]:8080" });
  assert.deepEqual(parseListen("0.0.0.0:0"), { host: "0.0.0.0", port: 0, text: "0.0.0.0:0" });
  assert.equal(parseListen(":65535").port, 65535);
});

test("parseListen rejects malformed addresses and names the value", () => {
  for (const bad of ["8080", ":", ":65536", ":-1", "host:abc", "::1:8080", "[::1:8080", "ho st:80", "[zz]:80", ""]) {
    assert.throws(() => parseListen(bad), {
      message: new RegExp(`^Invalid listen address ${JSON.stringify(bad).replace(/[[\]]/g, "\\$&")}`),
    }, bad);
  }
});

test("formatListen puts IPv6 hosts in brackets", () => {
  assert.equal(formatListen(parseListen("[::1]:8080")), "[::1]:8080");
  assert.equal(formatListen(parseListen(":8080")), ":8080");
});
