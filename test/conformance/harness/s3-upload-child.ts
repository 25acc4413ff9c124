/**
 * Uploads every file of a directory with tapline's S3 uploader, then prints
 * the uploader's metrics as JSON. The S3 conformance test runs it under
 * Node, Deno and Bun to check signing, fetch bodies and file access on each.
 *
 * Input: the environment variable TAPLINE_S3_CHILD holding
 * `{ endpoint, bucket, region, credentials, dir, prefix }`.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { nodeFileSystem } from "../../../src/runtime/shared/fs.ts";
import { NodeSha256 } from "../../../src/runtime/shared/sha256.ts";
import { createS3Uploader } from "../../../src/s3/uploader.ts";

const input = JSON.parse(process.env["TAPLINE_S3_CHILD"] ?? "{}") as {
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  dir: string;
  prefix: string;
};

const uploader = createS3Uploader(
  {
    bucket: input.bucket,
    prefix: input.prefix,
    endpoint: input.endpoint,
    region: input.region,
    credentials: input.credentials,
    multipartThresholdBytes: 5 * 1024 * 1024,
    partSizeBytes: 5 * 1024 * 1024,
    retry: { initialMs: 50, maxMs: 200 },
  },
  {
    fs: nodeFileSystem,
    sha256: NodeSha256,
    listPending: async () => (await readdir(input.dir)).map((name) => join(input.dir, name)),
    scanIntervalMs: 0,
    logger: {
      debug() {},
      info() {},
      warn: (msg, fields) => process.stderr.write(`${msg} ${JSON.stringify(fields)}\n`),
      error: (msg, fields) => process.stderr.write(`${msg} ${JSON.stringify(fields)}\n`),
    },
  },
);
await uploader.start();
const deadline = Date.now() + 20_000;
while (uploader.pending().length > 0 && uploader.metrics.uploadFailures === 0 && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
await uploader.close(2_000);
process.stdout.write(JSON.stringify(uploader.metrics) + "\n");
