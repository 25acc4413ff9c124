/**
 * The test harness's independent SigV4 verifier, checked against AWS's
 * published examples, and tapline's signer checked against the verifier.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NodeSha256 } from "../../../src/runtime/shared/sha256.ts";
import { S3Client } from "../../../src/s3/client.ts";
import { S3RequestError } from "../../../src/s3/errors.ts";
import { type ReceivedRequest, verifySigV4 } from "../../conformance/harness/sigv4.ts";

// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
const AWS_EXAMPLE = {
  region: "us-east-1",
  keys: { AKIAIOSFODNN7EXAMPLE: { secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" } },
  now: () => Date.UTC(2013, 4, 24, 0, 1),
};
const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SCOPE = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request";

test("accepts AWS's GetObject example", () => {
  const request: ReceivedRequest = {
    method: "GET",
    url: "/test.txt",
    headers: [
      ["Host", "examplebucket.s3.amazonaws.com"],
      ["Range", "bytes=0-9"],
      ["x-amz-content-sha256", EMPTY],
      ["x-amz-date", "20130524T000000Z"],
      [
        "Authorization",
        `AWS4-HMAC-SHA256 Credential=${SCOPE},SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`,
      ],
    ],
    body: new Uint8Array(0),
  };
  assert.deepEqual(verifySigV4(request, AWS_EXAMPLE), { ok: true, accessKeyId: "AKIAIOSFODNN7EXAMPLE" });
  const tampered = {
    ...request,
    headers: request.headers.map(([n, v]) => [n, n === "Range" ? "bytes=0-10" : v] as const),
  };
  assert.equal((verifySigV4(tampered, AWS_EXAMPLE) as { code: string }).code, "SignatureDoesNotMatch");
});

test("accepts AWS's PutObject example (encoded path, body hash)", () => {
  const body = new TextEncoder().encode("Welcome to Amazon S3.");
  const request: ReceivedRequest = {
    method: "PUT",
    url: "/test%24file.text",
    headers: [
      ["Host", "examplebucket.s3.amazonaws.com"],
      ["Date", "Fri, 24 May 2013 00:00:00 GMT"],
      ["x-amz-date", "20130524T000000Z"],
      ["x-amz-storage-class", "REDUCED_REDUNDANCY"],
      ["x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"],
      [
        "Authorization",
        `AWS4-HMAC-SHA256 Credential=${SCOPE},SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd`,
      ],
    ],
    body,
  };
  assert.equal(verifySigV4(request, AWS_EXAMPLE).ok, true);
  const altered = verifySigV4({ ...request, body: new TextEncoder().encode("Welcome to Amazon S4.") }, AWS_EXAMPLE);
  assert.equal((altered as { code: string }).code, "XAmzContentSHA256Mismatch");
});

test("accepts AWS's ListObjects example (sorted query)", () => {
  const request: ReceivedRequest = {
    method: "GET",
    url: "/?max-keys=2&prefix=J",
    headers: [
      ["Host", "examplebucket.s3.amazonaws.com"],
      ["x-amz-date", "20130524T000000Z"],
      ["x-amz-content-sha256", EMPTY],
      [
        "Authorization",
        `AWS4-HMAC-SHA256 Credential=${SCOPE},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7`,
      ],
    ],
    body: new Uint8Array(0),
  };
  assert.equal(verifySigV4(request, AWS_EXAMPLE).ok, true);
  assert.equal(verifySigV4({ ...request, url: "/?max-keys=3&prefix=J" }, AWS_EXAMPLE).ok, false);
});

test("refuses unsigned requests, unknown keys, skewed clocks and unsigned payloads", () => {
  const base: ReceivedRequest = { method: "GET", url: "/", headers: [["Host", "h"]], body: new Uint8Array(0) };
  assert.deepEqual(
    [verifySigV4(base, AWS_EXAMPLE)].map((v) => !v.ok && [v.status, v.code]),
    [[403, "AccessDenied"]],
  );
  const signed = (auth: string, extra: Array<[string, string]> = []): ReceivedRequest => ({
    ...base,
    headers: [...base.headers, ["x-amz-date", "20130524T000000Z"], ["x-amz-content-sha256", EMPTY], ...extra, [
      "Authorization",
      auth,
    ]],
  });
  const sig = "0".repeat(64);
  const unknown = verifySigV4(
    signed(
      `AWS4-HMAC-SHA256 Credential=NOPE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=${sig}`,
    ),
    AWS_EXAMPLE,
  );
  assert.equal(!unknown.ok && unknown.code, "InvalidAccessKeyId");
  const late = verifySigV4(
    signed(`AWS4-HMAC-SHA256 Credential=${SCOPE},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=${sig}`),
    { ...AWS_EXAMPLE, now: () => Date.UTC(2013, 4, 24, 1, 0) },
  );
  assert.equal(!late.ok && late.code, "RequestTimeTooSkewed");
  const unsignedPayload: ReceivedRequest = {
    ...base,
    headers: [["Host", "h"], ["x-amz-date", "20130524T000000Z"], ["x-amz-content-sha256", "UNSIGNED-PAYLOAD"], [
      "Authorization",
      `AWS4-HMAC-SHA256 Credential=${SCOPE},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=${sig}`,
    ]],
  };
  const refused = verifySigV4(unsignedPayload, AWS_EXAMPLE);
  assert.equal(!refused.ok && refused.code, "InvalidRequest");
  const unsignedHeader = verifySigV4(
    signed(`AWS4-HMAC-SHA256 Credential=${SCOPE},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=${sig}`, [
      ["x-amz-meta-extra", "1"],
    ]),
    AWS_EXAMPLE,
  );
  assert.equal(!unsignedHeader.ok && unsignedHeader.code, "AccessDenied");
});

/** Captures what the client sends and answers like S3 would after verifying it. */
function verifyingFetch(keys: Record<string, { secretAccessKey: string; sessionToken?: string }>, seen: string[]) {
  return ((input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const headers: Array<[string, string]> = [["host", url.host]];
    new Headers(init?.headers).forEach((value, name) => headers.push([name, value]));
    const body = init?.body instanceof Uint8Array ? init.body : new Uint8Array(0);
    const verdict = verifySigV4(
      { method: init?.method ?? "GET", url: url.pathname + url.search, headers, body },
      { region: "eu-west-1", keys },
    );
    seen.push(url.pathname + url.search);
    if (!verdict.ok) {
      return Promise.resolve(
        new Response(`<Error><Code>${verdict.code}</Code><Message>${verdict.message}</Message></Error>`, {
          status: verdict.status,
        }),
      );
    }
    if (url.search === "?uploads") {
      return Promise.resolve(
        new Response("<InitiateMultipartUploadResult><UploadId>up1</UploadId></InitiateMultipartUploadResult>"),
      );
    }
    return Promise.resolve(new Response("", { status: 200, headers: { etag: '"e"' } }));
  }) as typeof fetch;
}

test("tapline's signer produces what the independent verifier accepts, for awkward keys", async () => {
  const seen: string[] = [];
  const credentials = { accessKeyId: "AKID", secretAccessKey: "se/cr+et", sessionToken: "token/with+chars=" };
  const client = new S3Client({
    bucket: "my.bucket",
    endpoint: "http://127.0.0.1:9/base/",
    region: "eu-west-1",
    credentials,
    sha256: NodeSha256,
    fetch: verifyingFetch({ AKID: { secretAccessKey: "se/cr+et", sessionToken: "token/with+chars=" } }, seen),
  });
  const body = new TextEncoder().encode('{"a":1}\n');
  for (const key of ["plain.jsonl", "dir/sub dir/a+b=c&d.jsonl", "üñí/çødé~!'()*.db", "2024-01-01T00:00:00Z.jsonl"]) {
    await client.putObject({ key, body, contentType: "application/x-ndjson" });
  }
  const uploadId = await client.createMultipartUpload("a b/c.jsonl");
  assert.equal(uploadId, "up1");
  assert.equal(await client.uploadPart({ key: "a b/c.jsonl", uploadId, partNumber: 1, body }), '"e"');
  await client.completeMultipartUpload({ key: "a b/c.jsonl", uploadId, parts: [{ partNumber: 1, etag: '"e"' }] });
  await client.abortMultipartUpload("a b/c.jsonl", uploadId);
  assert.equal(seen[0], "/base/my.bucket/plain.jsonl");
  assert.equal(seen[1], "/base/my.bucket/dir/sub%20dir/a%2Bb%3Dc%26d.jsonl");
  assert.equal(seen[4], "/base/my.bucket/a%20b/c.jsonl?uploads");
  assert.equal(seen[5], "/base/my.bucket/a%20b/c.jsonl?partNumber=1&uploadId=up1");
  assert.equal(seen.length, 8);
});

test("a wrong secret surfaces as an S3RequestError with S3's code and the status", async () => {
  const client = new S3Client({
    bucket: "b",
    endpoint: "http://127.0.0.1:9",
    region: "eu-west-1",
    credentials: { accessKeyId: "AKID", secretAccessKey: "wrong" },
    sha256: NodeSha256,
    fetch: verifyingFetch({ AKID: { secretAccessKey: "right" } }, []),
  });
  await assert.rejects(client.putObject({ key: "k", body: new Uint8Array([1]) }), (error: unknown) => {
    assert.ok(error instanceof S3RequestError);
    assert.equal(error.status, 403);
    assert.equal(error.s3Code, "SignatureDoesNotMatch");
    assert.match(
      error.message,
      /^S3 PutObject of s3:\/\/b\/k failed: HTTP 403 SignatureDoesNotMatch: The request signature/,
    );
    return true;
  });
});
