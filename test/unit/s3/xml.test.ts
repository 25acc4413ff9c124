import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffDelay } from "../../../src/s3/backoff.ts";
import { completeMultipartUploadXml, parseS3Error, xmlElementText } from "../../../src/s3/xml.ts";

test("reads S3 error documents", () => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SignatureDoesNotMatch</Code><Message>Check your key &amp; signing method &lt;x&gt;</Message><RequestId>1</RequestId></Error>`;
  assert.deepEqual(parseS3Error(xml), {
    code: "SignatureDoesNotMatch",
    message: "Check your key & signing method <x>",
  });
  assert.equal(parseS3Error("<CompleteMultipartUploadResult/>"), undefined);
  assert.equal(xmlElementText('<R xmlns="x"><UploadId a="1">id&#43;1</UploadId></R>', "UploadId"), "id+1");
});

test("writes the CompleteMultipartUpload body in part order", () => {
  const xml = completeMultipartUploadXml([{ partNumber: 1, etag: '"a"' }, { partNumber: 2, etag: '"b&"' }]);
  assert.match(
    xml,
    /<Part><PartNumber>1<\/PartNumber><ETag>"a"<\/ETag><\/Part><Part><PartNumber>2<\/PartNumber><ETag>"b&amp;"<\/ETag><\/Part><\/CompleteMultipartUpload>$/,
  );
});

test("backoff doubles, is capped, and jitters within the upper half", () => {
  const retry = { initialMs: 100, maxMs: 1000 };
  assert.equal(backoffDelay(1, retry, () => 1), 100);
  assert.equal(backoffDelay(3, retry, () => 1), 400);
  assert.equal(backoffDelay(3, retry, () => 0), 200);
  assert.equal(backoffDelay(10, retry, () => 1), 1000);
  assert.equal(backoffDelay(1000, retry, () => 0.5), 750);
});
