/**
 * Self-signed certificate for `--auto-cert`: an ECDSA P-256 key and an X.509
 * certificate for local names, built with Web Crypto and `@peculiar/x509` so
 * the same code runs on Node, Deno, Bun and inside `bun build --compile`.
 */

import { UsageError } from "../shared/errors.ts";

type X509Module = typeof import("@peculiar/x509");

/** Options for {@link createSelfSignedCertificate}. */
export interface SelfSignedOptions {
  /** Names and IP addresses the certificate is valid for. IPs become SAN IP entries, the rest DNS entries. */
  hosts?: string[];
  /** Days of validity counted from now. Default 365. */
  validDays?: number;
}

/** A certificate and its private key, both PEM encoded. */
export interface SelfSignedCertificate {
  /** `-----BEGIN CERTIFICATE-----` block. */
  cert: string;
  /** PKCS#8 `-----BEGIN PRIVATE KEY-----` block. */
  key: string;
}

/** Hosts covered when the caller names none. */
export const DEFAULT_SELF_SIGNED_HOSTS: readonly string[] = ["localhost", "127.0.0.1", "::1"];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
// Backdated so that a client whose clock runs slightly behind still accepts it.
const BACKDATE_MS = HOUR_MS;

let x509Loading: Promise<X509Module> | undefined;

/**
 * Creates a fresh self-signed TLS server certificate (ECDSA P-256, signed
 * with ECDSA-SHA256) valid from one hour ago for `validDays` days.
 * CN is the first DNS name among `hosts` (`localhost` by default).
 * @throws UsageError when a host is empty or `validDays` is not a positive integer.
 */
export async function createSelfSignedCertificate(options: SelfSignedOptions = {}): Promise<SelfSignedCertificate> {
  const hosts = options.hosts ?? DEFAULT_SELF_SIGNED_HOSTS;
  const validDays = options.validDays ?? 365;
  if (!Number.isSafeInteger(validDays) || validDays <= 0) {
    throw new UsageError(
      `Invalid validDays ${String(validDays)} for the self-signed certificate: must be a positive integer`,
    );
  }
  const names = hosts.map((host, i) => classifyHost(host, i));
  if (names.length === 0) {
    throw new UsageError("Invalid hosts for the self-signed certificate: at least one host is required");
  }
  const commonName = names.find((n) => n.type === "dns")?.value ?? "localhost";

  const x509 = await loadX509();
  const subtle = globalThis.crypto.subtle;
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await subtle.generateKey(algorithm, true, ["sign", "verify"]);

  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialHex(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + validDays * DAY_MS),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(names, false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });

  const pkcs8 = await subtle.exportKey("pkcs8", keys.privateKey);
  return {
    cert: ensureTrailingNewline(cert.toString("pem")),
    key: ensureTrailingNewline(x509.PemConverter.encode(pkcs8, "PRIVATE KEY")),
  };
}

/** Decides whether a host goes into the SAN as an IP or a DNS entry. */
function classifyHost(host: string, index: number): { type: "ip" | "dns"; value: string } {
  const value = host.trim();
  if (value === "") {
    throw new UsageError(`Invalid host #${index + 1} for the self-signed certificate: must not be empty`);
  }
  // "[::1]" is how IPv6 hosts appear in URLs and listen addresses.
  const unbracketed = value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
  if (unbracketed.includes(":") || /^\d{1,3}(\.\d{1,3}){3}$/.test(unbracketed)) {
    return { type: "ip", value: unbracketed };
  }
  return { type: "dns", value };
}

/** 16 random bytes with the top bit clear, so the DER INTEGER stays positive and within 20 octets. */
function randomSerialHex(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) || 0x01;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function ensureTrailingNewline(pem: string): string {
  const normalized = pem.replace(/\r\n/g, "\n");
  return normalized.endsWith("\n") ? normalized : `${normalized}\n`;
}

/**
 * Imports `@peculiar/x509` on first use only, since most runs never need a
 * certificate. Its dependency tsyringe refuses to load unless the Reflect
 * metadata API exists, which `reflect-metadata` installs.
 */
function loadX509(): Promise<X509Module> {
  if (x509Loading === undefined) {
    x509Loading = (async () => {
      await import("reflect-metadata");
      const x509 = await import("@peculiar/x509");
      x509.cryptoProvider.set(globalThis.crypto);
      return x509;
    })();
    // A failed import should not stick: let the next call retry.
    x509Loading.catch(() => {
      x509Loading = undefined;
    });
  }
  return x509Loading;
}
