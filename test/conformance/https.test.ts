/** HTTPS listeners with --auto-cert: a self-signed ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "./harness/client.ts";
import { marker, proxySpec, tearDown, tempDir } from "./harness/fixture.ts";
import { assertAllValid, recordFor } from "./harness/records.ts";
import { runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import { startUpstream, type Upstream } from "./harness/upstream.ts";

const T = { timeout: 30_000 };

/** Normalise the IPv6 loopback spellings node may print in subjectaltname. */
function sanEntries(subjectaltname: string | undefined): string[] {
  return (subjectaltname ?? "").split(/,\s*/).map((s) =>
    s.trim().replace(/^IP Address:0:0:0:0:0:0:0:1$/i, "IP Address:::1")
  );
}

for (const runtime of runtimes) {
  describe(`${runtime}: https with --auto-cert`, { timeout: 90_000 }, () => {
    let up: Upstream;
    let tap: Tapline;
    let dir: string;
    let file: string;

    before(async () => {
      up = await startUpstream("u1");
      dir = tempDir();
      file = join(dir, "api.jsonl");
      tap = await startTapline(runtime, [
        "--auto-cert",
        "--proxy",
        proxySpec({ name: "api", upstream: up.url, listen_https: "127.0.0.1:0", log_jsonl: file }),
      ]);
    });

    after(() => tearDown(tap, [up], dir));

    test("an https request succeeds and is recorded; the upstream sees X-Forwarded-Proto https", T, async () => {
      const m = marker("tls");
      const res = await request(tap.url("api", `/secure?m=${m}`, "https"), { rejectUnauthorized: false });
      assert.equal(res.status, 200);
      assert.equal(res.headers["x-upstream"], "u1");
      assert.equal(up.one(m).headers["x-forwarded-proto"], "https");
      const record = await recordFor(file, m);
      assert.equal(record.route_name, "api");
      assert.equal(record.response?.status, 200);
    });

    test("the certificate is ECDSA P-256 for localhost, 127.0.0.1 and ::1", T, async () => {
      const res = await request(tap.url("api", `/cert?m=${marker("cert")}`, "https"), { rejectUnauthorized: false });
      const cert = res.peerCertificate;
      assert.ok(cert && Object.keys(cert).length > 0, "peer certificate available");
      const c = cert as typeof cert & { asn1Curve?: string; nistCurve?: string; pubkey?: Buffer; bits?: number };
      const isP256 = c.asn1Curve === "prime256v1" || c.nistCurve === "P-256" ||
        (c.pubkey?.length === 65 && c.bits === 256);
      assert.ok(
        isP256,
        `ECDSA P-256 key (asn1Curve ${c.asn1Curve}, nistCurve ${c.nistCurve}, bits ${c.bits}, pubkey ${c.pubkey?.length} bytes)`,
      );
      const san = sanEntries(cert.subjectaltname);
      for (const want of ["DNS:localhost", "IP Address:127.0.0.1", "IP Address:::1"]) {
        assert.ok(san.includes(want), `subjectaltname has ${want} (got ${cert.subjectaltname})`);
      }
    });

    test("a verifying client rejects the self-signed certificate", T, async () => {
      await assert.rejects(
        request(tap.url("api", `/verify?m=${marker("verify")}`, "https")),
        /self[- ]signed|certificate/i,
      );
    });

    test("the plain http listener of the same route still works", T, async () => {
      const m = marker("plain");
      const res = await request(tap.url("api", `/plain?m=${m}`));
      assert.equal(res.status, 200);
      assert.equal(up.one(m).headers["x-forwarded-proto"], "http");
    });

    test("records validate against the schema", T, async () => {
      const m = marker("last");
      await request(tap.url("api", `/last?m=${m}`, "https"), { rejectUnauthorized: false });
      await recordFor(file, m);
      assert.ok(assertAllValid([file]) >= 3);
    });
  });
}
