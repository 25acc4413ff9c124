/**
 * S3 archival under each runtime: tapline's uploader (run as a child
 * process under node, deno and bun) uploads single-part and multipart files
 * to the verifying S3 test server, which accepts its SigV4 signatures.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { repoRoot, runtimesFor } from "./harness/runtimes.ts";
import { type S3TestServer, startS3TestServer } from "./harness/s3-server.ts";

let s3: S3TestServer;
let root = "";

function childCommand(runtime: string): { command: string; args: string[] } {
  const source = resolve(repoRoot, "test/conformance/harness/s3-upload-child.ts");
  switch (runtime) {
    case "node":
      return {
        command: process.execPath,
        args: [resolve(repoRoot, "dist/test/conformance/harness/s3-upload-child.js")],
      };
    case "deno":
      return { command: resolve(repoRoot, "node_modules/.bin/deno"), args: ["run", "-A", source] };
    default:
      return { command: resolve(repoRoot, "node_modules/.bin/bun"), args: [source] };
  }
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("S3 uploader child process", () => {
  before(async () => {
    s3 = await startS3TestServer();
    root = await mkdtemp(join(tmpdir(), "tapline-s3-rt-"));
  });
  after(async () => {
    await s3.close();
    await rm(root, { recursive: true, force: true });
  });
  for (const runtime of runtimesFor("s3-upload-child")) {
    test(`${runtime}: uploads single-part and multipart files that the SigV4 verifier accepts`, async () => {
      const dir = join(root, runtime);
      await mkdir(dir);
      const files = {
        "small.20240101T000000Z.jsonl": randomBytes(3000),
        "big.20240101T000000Z.db": randomBytes(11 * 1024 * 1024),
      };
      for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, name), bytes);
      const before = s3.requests.length;
      const { command, args } = childCommand(runtime);
      const env = {
        ...process.env,
        TAPLINE_S3_CHILD: JSON.stringify({
          endpoint: s3.endpoint,
          bucket: s3.bucket,
          region: s3.region,
          credentials: s3.credentials,
          dir,
          prefix: runtime,
        }),
      };
      const stdout = await new Promise<string>((done, fail) => {
        execFile(command, args, { env, timeout: 60_000, cwd: repoRoot }, (error, out, err) => {
          if (error) fail(new Error(`${runtime} child failed: ${error.message}\n${err}`));
          else done(out);
        });
      });
      const metrics = JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, number>;
      assert.deepEqual(metrics, {
        uploads: 2,
        uploadFailures: 0,
        bytesUploaded: 3000 + 11 * 1024 * 1024,
        filesPending: 0,
      });
      assert.deepEqual(await readdir(dir), [], "uploaded files are deleted");
      for (const [name, bytes] of Object.entries(files)) {
        const stored = await s3.getObject(`${runtime}/${name}`);
        assert.equal(stored && sha(stored), sha(bytes), `${name} arrived intact`);
      }
      const sent = s3.requests.slice(before);
      assert.equal(sent.filter((r) => r.rejected !== undefined).length, 0, JSON.stringify(sent));
      assert.equal(sent.filter((r) => r.url.includes("partNumber=")).length, 3);
    });
  }
});
