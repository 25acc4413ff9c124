import assert from "node:assert/strict";
import { test } from "node:test";
import { NodeSha256 } from "../../../../src/runtime/shared/sha256.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

test("hashes text and bytes incrementally (FIPS 180-2 vector)", async () => {
  const whole = new NodeSha256();
  whole.update("abc");
  assert.equal(hex(await whole.digest()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const parts = new NodeSha256(null);
  parts.update(new Uint8Array([0x61]));
  parts.update(new Uint8Array([0x00, 0x62, 0x63, 0x00]).subarray(1, 2));
  parts.update(new Uint8Array([0x63]).buffer);
  assert.equal(hex(await parts.digest()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("computes an HMAC when given a secret (RFC 4231 test case 2)", async () => {
  const mac = new NodeSha256("Jefe");
  mac.update("what do ya want for nothing?");
  assert.equal(hex(await mac.digest()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const bytesKey = new NodeSha256(new TextEncoder().encode("Jefe"));
  bytesKey.update("what do ya want for nothing?");
  assert.equal(hex(await bytesKey.digest()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
});
