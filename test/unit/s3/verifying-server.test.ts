/**
 * The verifying S3 test server over the network: signed requests reach
 * s3rver, tampered or unsigned ones are refused with S3-style XML errors.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { NodeSha256 } from "../../../src/runtime/shared/sha256.ts";
import { S3Client } from "../../../src/s3/client.ts";
import { S3RequestError } from "../../../src/s3/errors.ts";
import { type S3TestServer, startS3TestServer } from "../../conformance/harness/s3-server.ts";
import { signForTest } from "../../conformance/harness/sigv4.ts";

let s3: S3TestServer;
before(async () => {
  s3 = await startS3TestServer();
});
after(async () => {
  await s3.close();
});

async function send(method: string, path: string, headers: Record<string, string>, body: Uint8Array) {
  const response = await fetch(s3.endpoint + path, {
    method,
    headers,
    body: body.byteLength === 0 ? null : (body as Uint8Array<ArrayBuffer>),
  });
  return { status: response.status, text: await response.text() };
}

function signedPut(key: string, body: Uint8Array, secret = s3.credentials.secretAccessKey) {
  const path = `/${s3.bucket}/${key}`;
  const host = new URL(s3.endpoint).host;
  const headers = signForTest(
    { method: "PUT", url: path, headers: { host, "content-type": "text/plain" }, body },
    { accessKeyId: s3.credentials.accessKeyId, secretAccessKey: secret },
    s3.region,
  );
  delete headers["host"];
  return { path, headers };
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

test("a correctly signed hand-rolled PUT is stored in s3rver", async () => {
  const body = new TextEncoder().encode("hello s3\n");
  const { path, headers } = signedPut("hand/ok.txt", body);
  const reply = await send("PUT", path, headers, body);
  assert.equal(reply.status, 200, reply.text);
  assert.equal(sha((await s3.getObject("hand/ok.txt"))!), sha(body));
});

test("a wrong secret is refused with SignatureDoesNotMatch", async () => {
  const body = new TextEncoder().encode("x");
  const { path, headers } = signedPut("hand/wrong-secret.txt", body, "not-the-secret");
  const reply = await send("PUT", path, headers, body);
  assert.equal(reply.status, 403);
  assert.match(reply.text, /<Code>SignatureDoesNotMatch<\/Code>/);
  assert.equal(await s3.getObject("hand/wrong-secret.txt"), undefined);
});

test("an altered body is refused, whether or not the payload hash header is updated", async () => {
  const body = new TextEncoder().encode("original");
  const altered = new TextEncoder().encode("0riginal");
  const { path, headers } = signedPut("hand/altered.txt", body);
  const mismatch = await send("PUT", path, headers, altered);
  assert.equal(mismatch.status, 400);
  assert.match(mismatch.text, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
  const rehashed = await send("PUT", path, { ...headers, "x-amz-content-sha256": sha(altered) }, altered);
  assert.equal(rehashed.status, 403);
  assert.match(rehashed.text, /<Code>SignatureDoesNotMatch<\/Code>/);
  assert.equal(await s3.getObject("hand/altered.txt"), undefined);
});

test("a missing or stripped signature is refused with AccessDenied", async () => {
  const body = new TextEncoder().encode("anonymous");
  const bare = await send("PUT", `/${s3.bucket}/hand/anon.txt`, { "content-type": "text/plain" }, body);
  assert.equal(bare.status, 403);
  assert.match(bare.text, /<Code>AccessDenied<\/Code>/);
  const { path, headers } = signedPut("hand/anon.txt", body);
  delete headers["authorization"];
  const stripped = await send("PUT", path, headers, body);
  assert.equal(stripped.status, 403);
  assert.equal(await s3.getObject("hand/anon.txt"), undefined);
});

test("tapline's client is accepted, and gets S3 errors with their code", async () => {
  const client = new S3Client({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: s3.credentials,
    sha256: NodeSha256,
  });
  const body = new TextEncoder().encode('{"n":1}\n');
  await client.putObject({ key: "client/a b+c.jsonl", body, contentType: "application/x-ndjson" });
  assert.equal(sha((await s3.getObject("client/a b+c.jsonl"))!), sha(body));

  const wrong = new S3Client({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { ...s3.credentials, secretAccessKey: "wrong" },
    sha256: NodeSha256,
  });
  await assert.rejects(wrong.putObject({ key: "client/x.jsonl", body }), (error: unknown) => {
    assert.ok(error instanceof S3RequestError);
    assert.equal(error.status, 403);
    assert.equal(error.s3Code, "SignatureDoesNotMatch");
    return true;
  });
  const lastRejected = s3.requests.filter((r) => r.rejected !== undefined).at(-1);
  assert.equal(lastRejected?.rejected, "SignatureDoesNotMatch");
});
