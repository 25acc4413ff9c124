import { test } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";

import { createSelfSignedCertificate } from "../../../src/tls/self-signed.ts";
import { UsageError } from "../../../src/shared/errors.ts";

test("default certificate is PEM with a PKCS#8 key", async () => {
  const { cert, key } = await createSelfSignedCertificate();
  assert.match(cert, /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
  assert.match(key, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
});

test("default certificate covers localhost, 127.0.0.1 and ::1 with a P-256 key", async () => {
  const { cert, key } = await createSelfSignedCertificate();
  const x = new X509Certificate(cert);

  const san = (x.subjectAltName ?? "").split(", ");
  assert.ok(san.includes("DNS:localhost"), `SAN: ${x.subjectAltName}`);
  assert.ok(san.includes("IP Address:127.0.0.1"), `SAN: ${x.subjectAltName}`);
  // OpenSSL prints IPv6 either compressed or expanded depending on version.
  assert.ok(
    san.includes("IP Address:::1") || san.includes("IP Address:0:0:0:0:0:0:0:1"),
    `SAN: ${x.subjectAltName}`,
  );
  assert.equal(san.length, 3);
  assert.equal(x.subject, "CN=localhost");
  assert.equal(x.issuer, x.subject);
  assert.equal(x.ca, false);

  assert.equal(x.publicKey.asymmetricKeyType, "ec");
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
  assert.equal(x.checkPrivateKey(createPrivateKey(key)), true);
  assert.equal(x.verify(x.publicKey), true, "self-signature must verify");
  assert.equal(x.checkHost("localhost"), "localhost");
  assert.equal(x.checkIP("127.0.0.1"), "127.0.0.1");
  assert.equal(x.checkHost("example.com"), undefined);
  assert.ok(x.keyUsage?.includes("1.3.6.1.5.5.7.3.1"), `EKU: ${String(x.keyUsage)}`);
});

test("validity starts about an hour ago and lasts validDays", async () => {
  const before = Date.now();
  const { cert } = await createSelfSignedCertificate({ validDays: 30 });
  const after = Date.now();
  const x = new X509Certificate(cert);
  const from = Date.parse(x.validFrom);
  const to = Date.parse(x.validTo);
  // ASN.1 times have 1 s resolution.
  assert.ok(from >= before - 3_600_000 - 1000 && from <= after - 3_600_000, x.validFrom);
  assert.ok(to >= before + 30 * 86_400_000 - 1000 && to <= after + 30 * 86_400_000, x.validTo);
});

test("serial numbers are random and positive", async () => {
  const a = new X509Certificate((await createSelfSignedCertificate()).cert);
  const b = new X509Certificate((await createSelfSignedCertificate()).cert);
  assert.notEqual(a.serialNumber, b.serialNumber);
  assert.ok(a.serialNumber.length >= 16, a.serialNumber);
});

test("custom hosts: IPs go to IP entries, names to DNS entries, CN is the first name", async () => {
  const { cert } = await createSelfSignedCertificate({ hosts: ["10.0.0.5", "tap.internal", "[fe80::1]", "alt.test"] });
  const x = new X509Certificate(cert);
  const san = (x.subjectAltName ?? "").split(", ");
  assert.ok(san.includes("IP Address:10.0.0.5"), String(x.subjectAltName));
  assert.ok(san.includes("DNS:tap.internal"), String(x.subjectAltName));
  assert.ok(san.includes("DNS:alt.test"), String(x.subjectAltName));
  assert.ok(san.some((s) => /^IP Address:fe80:(0:0:0:0:0:0:|:)1$/i.test(s)), String(x.subjectAltName));
  assert.equal(x.subject, "CN=tap.internal");
});

test("invalid options are usage errors", async () => {
  await assert.rejects(createSelfSignedCertificate({ validDays: 0 }), UsageError);
  await assert.rejects(createSelfSignedCertificate({ validDays: 1.5 }), UsageError);
  await assert.rejects(createSelfSignedCertificate({ hosts: [] }), UsageError);
  await assert.rejects(createSelfSignedCertificate({ hosts: ["localhost", " "] }), /host #2/);
});

test("an https server with the certificate serves a client that trusts it", { timeout: 10_000 }, async () => {
  const { cert, key } = await createSelfSignedCertificate();
  const server = createServer({ cert, key }, (_req, res) => {
    res.setHeader("connection", "close");
    res.end("hello over tls");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  try {
    const { port } = server.address() as AddressInfo;
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, path: "/", ca: cert, servername: "localhost", agent: false, timeout: 5000 },
        (res) => {
          let data = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (data += chunk));
          res.on("end", () => resolve(data));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error("TLS request timed out")));
      req.on("error", reject);
      req.end();
    });
    assert.equal(body, "hello over tls");

    // Without trusting the certificate the handshake must fail, proving `ca` is what made it work.
    await assert.rejects(
      new Promise((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, servername: "localhost", agent: false, timeout: 5000 }, resolve);
        req.on("timeout", () => req.destroy(new Error("TLS request timed out")));
        req.on("error", reject);
        req.end();
      }),
      (err: NodeJS.ErrnoException) => err.code === "DEPTH_ZERO_SELF_SIGNED_CERT",
    );
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
