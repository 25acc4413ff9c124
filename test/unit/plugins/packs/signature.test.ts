/** Ed25519 pack signatures: what they cover and what they refuse. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkSignature,
  generateKeyPair,
  parsePublicKey,
  SIGNATURE_FILE,
  signPack,
} from "../../../../src/plugins/packs/signature.ts";
import { packOf } from "./pack-fixture.ts";

test("a signature covers every file; changing, adding or removing one breaks it", async () => {
  const { privatePem, publicKey } = await generateKeyPair();
  assert.match(privatePem, /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/);
  assert.equal(parsePublicKey(publicKey).byteLength, 32);
  const contents = packOf({ source: "export function onCapture() {}", fixtures: { "a.yaml": "name: a\n" } });
  assert.deepEqual(await checkSignature(contents), { signed: false });
  const signed = new Map(contents).set(SIGNATURE_FILE, new TextEncoder().encode(await signPack(contents, privatePem)));
  assert.deepEqual(await checkSignature(signed), { signed: true, valid: true, key: publicKey });
  const changed = new Map(signed).set("p.js", new TextEncoder().encode("export function onCapture() { return null; }"));
  const added = new Map(signed).set("extra.js", new Uint8Array(1));
  const removed = new Map(signed);
  removed.delete("fixtures/a.yaml");
  for (const tampered of [changed, added, removed]) {
    const check = await checkSignature(tampered);
    assert.equal(check.signed && !check.valid && check.reason, "the signature does not match the pack's files");
  }
  const other = await generateKeyPair();
  const forged = JSON.parse(new TextDecoder().decode(signed.get(SIGNATURE_FILE))) as { key: string };
  forged.key = other.publicKey;
  const check = await checkSignature(
    new Map(signed).set(SIGNATURE_FILE, new TextEncoder().encode(JSON.stringify(forged))),
  );
  assert.equal(check.signed && !check.valid, true, "another key does not verify it");
});

test("keys that are not Ed25519 keys in the expected form are refused with a reason", async () => {
  assert.throws(() => parsePublicKey("rsa:abc"), /is not a public key such as ed25519:/);
  assert.throws(() => parsePublicKey("ed25519:short"), /is not a public key/);
  const contents = packOf({ source: "", fixtures: {} });
  await assert.rejects(signPack(contents, "not a pem"), /the key is not a PEM "PRIVATE KEY"/);
  await assert.rejects(
    signPack(contents, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
    /not an Ed25519 private key/,
  );
  const garbled = new Map(contents).set(SIGNATURE_FILE, new TextEncoder().encode("{"));
  const check = await checkSignature(garbled);
  assert.equal(check.signed && !check.valid && check.reason, `${SIGNATURE_FILE} is not JSON`);
});
