import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../../src/shared/errors.ts";
import {
  objectKey,
  S3_DEFAULTS,
  s3EnvironmentFromEnv,
  type S3Options,
  validateS3Options,
} from "../../../src/s3/options.ts";

const full = { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "secret", AWS_REGION: "eu-west-1" };

test("reads credentials and region from AWS_* variables", () => {
  assert.deepEqual(s3EnvironmentFromEnv(full), {
    region: "eu-west-1",
    credentials: { accessKeyId: "AKID", secretAccessKey: "secret" },
  });
  const withToken = s3EnvironmentFromEnv({ ...full, AWS_SESSION_TOKEN: "tok" });
  assert.equal(withToken.credentials.sessionToken, "tok");
});

test("falls back to AWS_DEFAULT_REGION, and an explicit region wins", () => {
  const env = { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "secret", AWS_DEFAULT_REGION: "us-west-2" };
  assert.equal(s3EnvironmentFromEnv(env).region, "us-west-2");
  assert.equal(s3EnvironmentFromEnv({ ...env, AWS_REGION: "eu-central-1" }).region, "eu-central-1");
  assert.equal(s3EnvironmentFromEnv(env, "ap-south-1").region, "ap-south-1");
});

test("names the missing variable", () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ AWS_SECRET_ACCESS_KEY: "s", AWS_REGION: "r" }, "AWS_ACCESS_KEY_ID"],
    [{ AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: " ", AWS_REGION: "r" }, "AWS_SECRET_ACCESS_KEY"],
    [{ AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "s" }, "AWS_REGION"],
  ];
  for (const [env, name] of cases) {
    assert.throws(() => s3EnvironmentFromEnv(env), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, new RegExp(`^Missing ${name}`));
      assert.equal(error.location.field, name);
      return true;
    });
  }
});

test("validates part size, endpoint and retry delays", () => {
  const good: S3Options = {
    ...S3_DEFAULTS,
    retry: { ...S3_DEFAULTS.retry },
    bucket: "b",
    region: "us-east-1",
    credentials: { accessKeyId: "a", secretAccessKey: "s" },
    endpoint: "http://127.0.0.1:9000",
  };
  validateS3Options(good);
  assert.throws(() => validateS3Options({ ...good, partSizeBytes: 1024 }), /part size 1024: must be at least/);
  assert.throws(() => validateS3Options({ ...good, endpoint: "ftp://x" }), /Invalid S3 endpoint "ftp:\/\/x"/);
  assert.throws(() => validateS3Options({ ...good, bucket: "" }), /Invalid S3 bucket/);
  assert.throws(() => validateS3Options({ ...good, retry: { initialMs: 10, maxMs: 5 } }), /retry delays/);
});

test("object keys join the prefix and the file name with one slash", () => {
  assert.equal(objectKey("", "api.jsonl"), "api.jsonl");
  assert.equal(objectKey("logs", "api.jsonl"), "logs/api.jsonl");
  assert.equal(objectKey("logs/", "api.jsonl"), "logs/api.jsonl");
});
