/**
 * Ed25519 signatures of packs, with Web Crypto (the same on Node, Deno and
 * Bun). What is signed is the pack's file list with the SHA-256 of each file
 * (`<hex>  <path>` lines, sorted by path), so a signature covers every byte of
 * the pack and nothing about how it was archived. The signature travels in
 * the pack as `tapline-pack.sig`: `{"key": "ed25519:<base64>", "signature": "<base64>"}`.
 *
 * Keys: a private key is a PKCS#8 PEM file (`tapline pack keygen` writes one,
 * mode 0600); a public key is one line, `ed25519:<base64 of the 32 raw bytes>`.
 */
import { fromBase64, toBase64 } from "../../shared/base64.ts";
import { sha256Hex } from "./integrity.ts";
import type { PackContents } from "./pack-files.ts";

/** The signature file inside a signed pack. */
export const SIGNATURE_FILE = "tapline-pack.sig";

const ED25519 = { name: "Ed25519" } as const;
const PEM_LABEL = "PRIVATE KEY";

/** The text a signature covers: `<sha256 hex>  <path>` per file, sorted, the signature file left out. */
export async function signedText(contents: PackContents): Promise<string> {
  const lines: string[] = [];
  for (const path of [...contents.keys()].sort()) {
    if (path === SIGNATURE_FILE) continue;
    lines.push(`${await sha256Hex(contents.get(path)!)}  ${path}\n`);
  }
  return lines.join("");
}

/** A new key pair: the private key as PKCS#8 PEM, the public key as `ed25519:<base64>`. */
export async function generateKeyPair(): Promise<{ privatePem: string; publicKey: string }> {
  const pair = await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"]) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const body = toBase64(pkcs8).replace(/.{1,64}/g, "$&\n");
  return {
    privatePem: `-----BEGIN ${PEM_LABEL}-----\n${body}-----END ${PEM_LABEL}-----\n`,
    publicKey: publicKeyText(raw),
  };
}

/**
 * Signs `contents` with a PKCS#8 PEM private key: the signature file's text.
 *
 * @throws Error when the key is not an Ed25519 private key in PEM.
 */
export async function signPack(contents: PackContents, privatePem: string): Promise<string> {
  const match = new RegExp(`-----BEGIN ${PEM_LABEL}-----([A-Za-z0-9+/=\\s]+)-----END ${PEM_LABEL}-----`).exec(
    privatePem,
  );
  if (!match) throw new Error(`Cannot sign: the key is not a PEM "${PEM_LABEL}" (make one with tapline pack keygen)`);
  let key: CryptoKey;
  try {
    const der = fromBase64(match[1]!.replace(/\s+/g, ""));
    key = await crypto.subtle.importKey("pkcs8", der as Uint8Array<ArrayBuffer>, ED25519, true, ["sign"]);
  } catch (error) {
    throw new Error(`Cannot sign: the key is not an Ed25519 private key (${(error as Error).message})`);
  }
  const publicKey = await publicOf(key);
  const data = new TextEncoder().encode(await signedText(contents));
  const signature = new Uint8Array(await crypto.subtle.sign(ED25519, key, data));
  return JSON.stringify({ key: publicKey, signature: toBase64(signature) }, null, 2) + "\n";
}

/** Who signed a pack, or why its signature does not hold. */
export type SignatureCheck =
  | { signed: false }
  | { signed: true; valid: true; key: string }
  | { signed: true; valid: false; key?: string; reason: string };

/** Checks the signature file of `contents` (if any) against the files it holds. */
export async function checkSignature(contents: PackContents): Promise<SignatureCheck> {
  const file = contents.get(SIGNATURE_FILE);
  if (file === undefined) return { signed: false };
  let parsed: { key?: unknown; signature?: unknown };
  try {
    parsed = JSON.parse(new TextDecoder().decode(file));
  } catch {
    return { signed: true, valid: false, reason: `${SIGNATURE_FILE} is not JSON` };
  }
  const keyText = typeof parsed.key === "string" ? parsed.key : undefined;
  if (keyText === undefined || typeof parsed.signature !== "string") {
    return { signed: true, valid: false, reason: `${SIGNATURE_FILE} needs "key" and "signature"` };
  }
  try {
    const key = await crypto.subtle.importKey(
      "raw",
      parsePublicKey(keyText) as Uint8Array<ArrayBuffer>,
      ED25519,
      true,
      ["verify"],
    );
    const data = new TextEncoder().encode(await signedText(contents));
    const signature = fromBase64(parsed.signature) as Uint8Array<ArrayBuffer>;
    const valid = await crypto.subtle.verify(ED25519, key, signature, data);
    return valid
      ? { signed: true, valid: true, key: keyText }
      : { signed: true, valid: false, key: keyText, reason: "the signature does not match the pack's files" };
  } catch (error) {
    return { signed: true, valid: false, key: keyText, reason: (error as Error).message };
  }
}

/**
 * The 32 raw bytes of an `ed25519:<base64>` public key.
 *
 * @throws Error naming what is wrong with it.
 */
export function parsePublicKey(text: string): Uint8Array {
  const match = /^ed25519:([A-Za-z0-9+/]{43}=)$/.exec(text.trim());
  if (!match) {
    throw new Error(`"${text.trim().slice(0, 80)}" is not a public key such as ed25519:<44 base64 characters>`);
  }
  return fromBase64(match[1]!);
}

function publicKeyText(raw: Uint8Array): string {
  return `ed25519:${toBase64(raw)}`;
}

/** The public key of an extractable Ed25519 private key (through its JWK, which carries `x`). */
async function publicOf(privateKey: CryptoKey): Promise<string> {
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  const x = String(jwk.x ?? "").replace(/-/g, "+").replace(/_/g, "/");
  return publicKeyText(fromBase64(x + "=".repeat((4 - (x.length % 4)) % 4)));
}
