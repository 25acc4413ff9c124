import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { resolveInstanceId } from "../../../src/cli/instance-id.ts";
import { nodeFileSystem, readTextFile } from "../../../src/runtime/shared/fs.ts";

const runtime = { fs: nodeFileSystem, readTextFile, hostname: () => "Build_Host.example" };

test("a configured id is used as given, a bad one refused naming the flag", async () => {
  assert.equal(await resolveInstanceId("node-7", "/nonexistent", runtime), "node-7");
  await assert.rejects(resolveInstanceId("a/b", "/nonexistent", runtime), {
    name: "ConfigError",
    message: /^Invalid --instance-id "a\/b": must be 1 to 64 letters/,
  });
});

test("without one, host name and a random suffix, kept in the data dir and reused", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tapline-instance-"));
  try {
    const first = await resolveInstanceId(undefined, dir, runtime);
    assert.match(first, /^build-host\.example-[0-9a-f]{6}$/);
    assert.equal((await readFile(join(dir, "instance_id"), "utf8")).trim(), first);
    assert.equal(await resolveInstanceId(undefined, dir, runtime), first);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
