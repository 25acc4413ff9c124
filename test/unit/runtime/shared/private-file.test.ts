import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { createPrivateFile } from "../../../../src/runtime/shared/private-file.ts";

/** A fresh folder for one test, removed after it. */
async function folder(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tapline-private-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test("createPrivateFile creates missing folders (0700) and the file with mode 0600, whatever the umask", async (t) => {
  const dir = await folder(t);
  const path = join(dir, "data", "deeper", "secret");
  const previous = process.umask(0o000);
  try {
    assert.equal(await createPrivateFile(path, "s3cret\n"), true);
  } finally {
    process.umask(previous);
  }
  assert.equal(await readFile(path, "utf8"), "s3cret\n");
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, "data", "deeper"))).mode & 0o777, 0o700);
  assert.deepEqual(await readdir(join(dir, "data", "deeper")), ["secret"], "no temporary file left behind");
});

test("createPrivateFile never overwrites: false and the old content when the file exists", async (t) => {
  const dir = await folder(t);
  const path = join(dir, "once");
  assert.equal(await createPrivateFile(path, "first\n"), true);
  assert.equal(await createPrivateFile(path, "second\n"), false);
  assert.equal(await readFile(path, "utf8"), "first\n");
  assert.deepEqual(await readdir(dir), ["once"], "no temporary file left behind");
});

test("of several concurrent creations exactly one wins and the file holds its whole text", async (t) => {
  const path = join(await folder(t), "race");
  const texts = Array.from({ length: 8 }, (_, i) => `${String(i).repeat(64)}\n`);
  const created = await Promise.all(texts.map((text) => createPrivateFile(path, text)));
  assert.equal(created.filter(Boolean).length, 1);
  assert.equal(await readFile(path, "utf8"), texts[created.indexOf(true)]);
});
