import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { nodeFileSystem, readTextFile } from "../../../../src/runtime/shared/fs.ts";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tapline-fs-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("openAppend creates parent directories and appends all text, multi-byte characters included", async () => {
  const path = join(dir, "a", "b", "out.txt");
  const file = await nodeFileSystem.openAppend(path);
  const big = "é€😀x".repeat(512 * 1024);
  await file.append("abc");
  await file.append(big);
  await file.append("");
  await file.close();
  const written = await readFile(path, "utf8");
  assert.equal(written.length, 3 + big.length);
  assert.equal(written, "abc" + big);
});

test("openAppend keeps existing content", async () => {
  const path = join(dir, "existing.txt");
  await writeFile(path, "before\n");
  const file = await nodeFileSystem.openAppend(path);
  await file.append("after\n");
  await file.close();
  assert.equal(await readFile(path, "utf8"), "before\nafter\n");
});

test("openAppend rejects under a regular file", async () => {
  const blocker = join(dir, "plain");
  await writeFile(blocker, "x");
  await assert.rejects(nodeFileSystem.openAppend(join(blocker, "child.jsonl")));
});

test("readTextFile reads UTF-8 and rejects a missing file", async () => {
  const path = join(dir, "text.yaml");
  await writeFile(path, "name: café ✓\n");
  assert.equal(await readTextFile(path), "name: café ✓\n");
  await assert.rejects(readTextFile(join(dir, "missing.yaml")), { code: "ENOENT" });
});
