/**
 * The pack store on a real directory: install checks and records, loading
 * re-checks every file against the lock and reruns the fixtures.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PackError } from "../../../../src/plugins/packs/pack-check.ts";
import { PackStore } from "../../../../src/plugins/packs/store.ts";
import { generateKeyPair, SIGNATURE_FILE, signPack } from "../../../../src/plugins/packs/signature.ts";
import { nodePackFiles } from "../../../../src/runtime/shared/pack-files.ts";
import { VERSION } from "../../../../src/version.ts";
import { stubLogger } from "../inline-fixture.ts";
import { packOf } from "./pack-fixture.ts";

const root = mkdtempSync(join(tmpdir(), "tapline-packs-"));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

function storeIn(options: { trustedKeys?: string[]; version?: string } = {}): PackStore {
  return new PackStore({
    files: nodePackFiles,
    dataDir: join(root, `data-${++dirs}`),
    taplineVersion: options.version ?? VERSION,
    logger: stubLogger().logger,
    ...(options.trustedKeys ? { trustedKeys: options.trustedKeys } : {}),
    now: () => new Date("2026-12-03T00:00:00Z"),
  });
}

const SOURCE = `export function onSseEvent(e) { return { ...e, data: e.data + "!" }; }`;
const PASSING =
  "name: bangs\nhook: onSseEvent\ninput: { event: { data: hi } }\nexpect: { event: { event: message, data: hi! } }\n";
const FAILING = PASSING.replace("hi!", "hi?");

const isPackError = (code: string, pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof PackError, String(error));
  assert.equal(error.code, code);
  assert.match(error.message, pattern);
  return true;
};

test("install checks, writes the files and the lock; resolve loads the plugin from them", async () => {
  const store = storeIn();
  const contents = packOf({ source: SOURCE, fixtures: { "a.yaml": PASSING } });
  const { entry, unchanged } = await store.install(contents, { source: "test", label: "test" });
  assert.equal(unchanged, false);
  assert.equal(entry.name, "@test/pack");
  assert.match(entry.integrity, /^sha256-[A-Za-z0-9+/]{43}=$/);
  assert.deepEqual(Object.keys(entry.files).sort(), ["fixtures/a.yaml", "p.js", "tapline-pack.yaml"]);
  assert.match(entry.files["p.js"]!, /^[0-9a-f]{64}$/);
  const lock = JSON.parse(readFileSync(store.lockPath, "utf8"));
  assert.deepEqual(Object.keys(lock.packs), ["@test/pack@1.0.0"]);
  assert.equal(readFileSync(join(store.dirOf(entry), "p.js"), "utf8"), SOURCE);
  const source = await store.resolve({ pack: "@test/pack", plugin: "p" });
  assert.equal(source.source, SOURCE);
  assert.equal(source.packId, "@test/pack@1.0.0");
  assert.equal((await store.install(contents, { source: "again", label: "x" })).unchanged, true);
  await assert.rejects(
    store.install(packOf({ source: SOURCE + "\n", fixtures: { "a.yaml": PASSING } }), { source: "t", label: "t" }),
    isPackError("pack_conflict", /already installed with different files/),
  );
});

test("a failing fixture refuses the install with its diff, and nothing is written", async () => {
  const store = storeIn();
  await assert.rejects(
    store.install(packOf({ source: SOURCE, fixtures: { "a.yaml": FAILING } }), { source: "t", label: "t" }),
    (error: unknown) => {
      assert.ok(error instanceof PackError);
      assert.equal(error.code, "pack_fixtures");
      assert.match(error.message, /1 of 1 fixtures failed/);
      assert.match(error.fixtures![0]!.diff!, /^- .*"hi\?"/m);
      return true;
    },
  );
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(await nodePackFiles.list(store.packsDir), []);
});

test("a pack without fixtures, or for another tapline, is refused", async () => {
  await assert.rejects(
    storeIn().install(packOf({ source: SOURCE, fixtures: {} }), { source: "t", label: "t" }),
    isPackError("pack_invalid", /has no fixtures/),
  );
  await assert.rejects(
    storeIn({ version: "0.0.1" }).install(
      packOf({ source: SOURCE, tapline: ">=9", fixtures: { "a.yaml": PASSING } }),
      { source: "t", label: "t" },
    ),
    isPackError("pack_unsupported", /supports tapline >=9; this is tapline 0\.0\.1/),
  );
});

test("a file changed, removed or added after install refuses the load, naming it", async () => {
  const cases: Array<[string, (dir: string) => void, RegExp]> = [
    ["changed", (dir) => writeFileSync(join(dir, "p.js"), SOURCE + "//"), /p\.js changed after install/],
    ["removed", (dir) => rmSync(join(dir, "fixtures/a.yaml")), /fixtures\/a\.yaml is missing/],
    ["added", (dir) => writeFileSync(join(dir, "new.js"), "x"), /new\.js was added after install/],
  ];
  for (const [what, tamper, pattern] of cases) {
    const store = storeIn();
    const { entry } = await store.install(packOf({ source: SOURCE, fixtures: { "a.yaml": PASSING } }), {
      source: "t",
      label: "t",
    });
    tamper(store.dirOf(entry));
    await assert.rejects(
      store.resolve({ pack: "@test/pack", plugin: "p" }),
      isPackError("pack_tampered", pattern),
      what,
    );
  }
  // A symbolic link in the pack folder is not followed: the file it replaced is missing.
  const store = storeIn();
  const { entry } = await store.install(packOf({ source: SOURCE, fixtures: { "a.yaml": PASSING } }), {
    source: "t",
    label: "t",
  });
  const dir = store.dirOf(entry);
  rmSync(join(dir, "p.js"));
  writeFileSync(join(root, "elsewhere.js"), SOURCE);
  symlinkSync(join(root, "elsewhere.js"), join(dir, "p.js"));
  await assert.rejects(
    store.resolve({ pack: "@test/pack", plugin: "p" }),
    isPackError("pack_tampered", /p\.js is missing/),
  );
});

test("versions: exact, the only one, or ambiguous; remove by name@version", async () => {
  const store = storeIn();
  for (const version of ["1.0.0", "1.1.0"]) {
    await store.install(packOf({ source: SOURCE, version, fixtures: { "a.yaml": PASSING } }), {
      source: "t",
      label: "t",
    });
  }
  assert.equal((await store.resolve({ pack: "@test/pack", plugin: "p", version: "1.1.0" })).version, "1.1.0");
  await assert.rejects(
    store.resolve({ pack: "@test/pack", plugin: "p" }),
    isPackError("pack_ambiguous", /1\.0\.0, 1\.1\.0/),
  );
  await assert.rejects(
    store.resolve({ pack: "@test/pack", plugin: "p", version: "2.0.0" }),
    isPackError("pack_not_found", /version 2\.0\.0 is not installed \(installed: 1\.0\.0, 1\.1\.0\)/),
  );
  await assert.rejects(store.resolve({ pack: "@test/pack", plugin: "q", version: "1.0.0" }), /no plugin "q"|fixtures/);
  await assert.rejects(
    store.resolve({ pack: "@other/x", plugin: "p" }),
    isPackError("pack_not_found", /not installed/),
  );
  await assert.rejects(store.remove("@test/pack"), isPackError("pack_ambiguous", /2 installed versions/));
  assert.deepEqual((await store.remove("@test/pack@1.0.0")).map((e) => e.version), ["1.0.0"]);
  assert.equal((await store.resolve({ pack: "@test/pack", plugin: "p" })).version, "1.1.0", "now the only one");
  assert.deepEqual(await nodePackFiles.list(join(store.packsDir, "@test")), [{ name: "pack@1.1.0", directory: true }]);
});

test("with trusted keys, only packs signed by one of them install", async () => {
  const key = await generateKeyPair();
  const other = await generateKeyPair();
  const contents = packOf({ source: SOURCE, fixtures: { "a.yaml": PASSING } });
  const signed = new Map(contents).set(
    SIGNATURE_FILE,
    new TextEncoder().encode(await signPack(contents, key.privatePem)),
  );
  const { entry } = await storeIn({ trustedKeys: [key.publicKey] }).install(signed, { source: "t", label: "t" });
  assert.equal(entry.signed_by, key.publicKey);
  await assert.rejects(
    storeIn({ trustedKeys: [other.publicKey] }).install(signed, { source: "t", label: "t" }),
    isPackError("pack_signature", /which is not a trusted key/),
  );
  await assert.rejects(
    storeIn({ trustedKeys: [key.publicKey] }).install(contents, { source: "t", label: "t" }),
    isPackError("pack_signature", /is not signed/),
  );
  const altered = new Map(signed).set("p.js", new TextEncoder().encode(SOURCE + " "));
  await assert.rejects(
    storeIn().install(altered, { source: "t", label: "t" }),
    isPackError("pack_signature", /bad signature: the signature does not match/),
    "a broken signature is refused even without trusted keys",
  );
});
