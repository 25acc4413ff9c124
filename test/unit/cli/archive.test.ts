import assert from "node:assert/strict";
import { test } from "node:test";
import { createArchive } from "../../../src/cli/archive.ts";
import { defaultGlobals } from "../../../src/config/options.ts";
import type { Config } from "../../../src/config/types.ts";
import { nodeFileSystem, readTextFile } from "../../../src/runtime/shared/fs.ts";
import type { Runtime } from "../../../src/runtime/types.ts";
import { createLogger } from "../../../src/shared/logger.ts";

const runtime = {
  name: "node",
  version: "v20.0.0",
  env: () => ({ AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret", AWS_REGION: "us-east-1" }),
  fs: { ...nodeFileSystem, canCompress: (format: string) => format === "gzip" },
  readTextFile,
  hostname: () => "host",
} as unknown as Runtime;

const logger = createLogger("error", "json", () => {});

function config(overrides: Partial<Config>): Config {
  return { ...defaultGlobals(), proxies: [], plugins: [], s3Bucket: "b", instanceId: "i-1", ...overrides } as Config;
}

test("a key template that could collide is refused naming the flag, before anything starts", async () => {
  await assert.rejects(
    createArchive(config({ s3KeyTemplate: "{prefix}{route}.jsonl" }), {
      runtime,
      logger,
      livePaths: () => [],
      dataDir: "/x",
    }),
    {
      name: "ConfigError",
      message: /^Invalid --s3-key-template "\{prefix\}\{route\}\.jsonl": must contain \{seq\} or \{file\}/,
    },
  );
});

test("zstd where the runtime has none is refused with what to use instead", async () => {
  await assert.rejects(
    createArchive(config({ s3Compress: "zstd" }), { runtime, logger, livePaths: () => [], dataDir: "/x" }),
    { name: "UnavailableError", message: /zstd .* lacks: use gzip$/ },
  );
});
