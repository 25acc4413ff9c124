/** Pack archives: reproducible, npm-shaped, and read with bounds. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createTar } from "nanotar";
import { buildArchive, readArchive } from "../../../../src/plugins/packs/archive.ts";
import { integrityOf, matchesIntegrity } from "../../../../src/plugins/packs/integrity.ts";
import { packOf } from "./pack-fixture.ts";

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

test("an archive holds the pack under package/, reads back the same, and is the same bytes every time", async () => {
  const contents = packOf({ source: "export function onCapture() {}", fixtures: { "a.yaml": "name: a\n" } });
  const first = await buildArchive(contents);
  const second = await buildArchive(new Map([...contents].reverse()));
  assert.deepEqual(first, second, "same contents in another order: same bytes");
  assert.equal(await integrityOf(first), await integrityOf(second));
  assert.ok(await matchesIntegrity(first, await integrityOf(first)));
  assert.equal(await matchesIntegrity(first, "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), false);
  await assert.rejects(matchesIntegrity(first, "md5-abc"), /sha256-, sha384- or sha512-/);
  const back = await readArchive(first, "x.tgz");
  assert.deepEqual([...back.keys()].sort(), [...contents.keys()].sort());
  for (const [path, bytes] of contents) assert.deepEqual(back.get(path), bytes, path);
});

test("paths that try to leave the pack land inside it; links and duplicates are refused by name", async () => {
  for (const name of ["package/../../evil.js", "/etc/passwd", "C:/x/../../evil.js"]) {
    const back = await readArchive(await gzip(createTar([{ name, data: "x" }])), "bad.tgz");
    for (const path of back.keys()) assert.doesNotMatch(path, /(^|\/)\.\.(\/|$)|^\//, `${name} -> ${path}`);
  }
  const twice = createTar([{ name: "package/a.js", data: "x" }, { name: "package/a.js", data: "y" }]);
  await assert.rejects(readArchive(await gzip(twice), "twice.tgz"), /"package\/a\.js" appears twice/);
  // A symbolic link entry: typeflag "2" in the header, written by hand (nanotar writes files only).
  const tar = createTar([{ name: "package/link", data: "" }]);
  tar[156] = "2".charCodeAt(0);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : tar[i]!;
  tar.set(new TextEncoder().encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  await assert.rejects(
    readArchive(await gzip(tar), "link.tgz"),
    /"package\/link" is a symbolicLink; packs hold plain files only/,
  );
});

test("names longer than a tar header holds are refused when building", async () => {
  const contents = packOf({ source: "", fixtures: { ["x".repeat(120) + ".yaml"]: "name: a\n" } });
  await assert.rejects(buildArchive(contents), /longer than 100 bytes/);
});

test("something that is not a gzip, or expands past the limit, is refused without reading it all", async () => {
  await assert.rejects(
    readArchive(new TextEncoder().encode("not gzip"), "junk.tgz"),
    /Cannot read junk\.tgz: .*is it a \.tgz/,
  );
  const huge = new Uint8Array(65 * 1024 * 1024);
  const bomb = await gzip(huge);
  assert.ok(bomb.byteLength < 1024 * 1024, "a small archive");
  await assert.rejects(readArchive(bomb, "bomb.tgz"), /more than 64 MiB once decompressed/);
});
