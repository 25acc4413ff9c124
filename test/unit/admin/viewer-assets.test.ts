import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { pathToFileURL } from "node:url";
import { VIEWER_ASSETS } from "../../../src/admin/viewer-assets.ts";
import { repoRoot } from "../plugins/bundled-fixture.ts";

interface BuildScript {
  generate(): string;
}

const root = repoRoot();

test("src/admin/viewer-assets.ts is what scripts/build-viewer.js builds from viewer/ now", async () => {
  const script = (await import(pathToFileURL(join(root, "scripts", "build-viewer.js")).href)) as BuildScript;
  const committed = readFileSync(join(root, "src", "admin", "viewer-assets.ts"), "utf8");
  assert.ok(committed === script.generate(), "src/admin/viewer-assets.ts is stale: run npm run build and commit it");
});

test("the viewer's script stays small: at most 60 KB gzip-compressed", () => {
  const size = gzipSync(VIEWER_ASSETS["viewer.js"]!.body, { level: 9 }).byteLength;
  assert.ok(size <= 60 * 1024, `viewer.js is ${size} bytes gzip-compressed`);
});

/** Every file under `dir`. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

test("the viewer's source never writes markup from strings (captured values are text nodes only)", () => {
  const sources = files(join(root, "viewer", "src"));
  assert.ok(sources.length > 5);
  for (const file of sources) {
    const text = readFileSync(file, "utf8");
    for (
      const sink of [
        "dangerouslySetInnerHTML",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
      ]
    ) {
      assert.ok(!text.includes(sink), `${file} uses ${sink}`);
    }
  }
  const page = VIEWER_ASSETS["index.html"]!.body;
  assert.doesNotMatch(page, /<script(?![^>]*\bsrc=)/, "no inline script in the page");
  assert.doesNotMatch(page, /\sstyle=|<style/, "no inline style in the page");
});
