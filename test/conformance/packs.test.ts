/**
 * Plugin packs on real tapline processes, per runtime. One set of packs is
 * prepared on Node (`tapline pack init|build|keygen` and `npm pack`) and
 * shared by every runtime, so each runtime installs and runs packs built by
 * another. Checked: installs from a folder, a `.tgz`, an npm tarball, an
 * npm spec and http://127.0.0.1 with `--integrity`, with the lock holding
 * every file's SHA-256; a file changed after install stops start-up by name;
 * a failing fixture installs nothing and prints its diff; signatures from
 * trusted keys only; a pack plugin through YAML `use:` and `PUT /api/plugins`;
 * `DELETE /api/packs` refused while used; `POST /api/packs` while the proxy
 * serves traffic. Every wait is bounded; everything listens on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { Agent } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "./harness/client.ts";
import { marker, removeDir, tearDown, tempDir } from "./harness/fixture.ts";
import {
  fileHashes,
  folderFiles,
  integrityOf,
  npmEnv,
  npmPack,
  readTgz,
  sha256Hex,
  writeTgz,
} from "./harness/packs.ts";
import { adminToken, writeConfig } from "./harness/plugin-config.ts";
import { readRecords, recordFor } from "./harness/records.ts";
import { runtimes } from "./harness/runtimes.ts";
import { type RunResult, runTapline, startTapline, type Tapline } from "./harness/tapline.ts";
import { startUpstream, type Upstream } from "./harness/upstream.ts";

const T = { timeout: 60_000 };
/** Longest a `tapline pack` command may run (fixtures run in the sandbox; npm may be slow to start). */
const PACK_MS = 60_000;
const VERSION = "0.1.0";

function show(r: RunResult): string {
  return `exit code ${r.code}, signal ${r.signal}\n--- stderr ---\n${r.stderr.slice(-3000)}\n--- stdout ---\n${
    r.stdout.slice(-3000)
  }`;
}

/** The message is for people: no JavaScript stack trace. */
function assertNoStack(r: RunResult): void {
  assert.doesNotMatch(r.stderr, /^\s+at .*:\d+:\d+\)?$/m, `stderr has a stack trace\n${show(r)}`);
}

/** `--json` output of a command that exited 0. */
function json(r: RunResult): Record<string, unknown> {
  assert.equal(r.code, 0, show(r));
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

interface LockEntry {
  name: string;
  version: string;
  source: string;
  integrity: string;
  signed_by?: string;
  files: Record<string, string>;
  plugins: string[];
}

/** The packs prepared once, on Node, for every runtime. */
interface Prepared {
  dir: string;
  /** A pack folder (`pack init slow-folder`). */
  folder: string;
  /** `pack build` of `pack init slow-tgz`, and the integrity the build printed. */
  tgz: string;
  tgzFolder: string;
  tgzIntegrity: string;
  /** An npm package whose package.json points at pack/tapline-pack.yaml, and its `npm pack` tarball. */
  npmFolder: string;
  npmTgz: string;
  npmByNpm: boolean;
  /** A pack whose first fixture expects `slow: "yes"`. */
  failing: string;
  /** `slow-signed` built with `--sign key1`, the same archive with one byte changed, and the key files. */
  signedTgz: string;
  alteredTgz: string;
  key1Pub: string;
  key2Pub: string;
  key1: string;
  /** `pack build` of `pack init slow-upload`, for `POST /api/packs`; the same name and version with another README. */
  uploadTgz: string;
  uploadConflictTgz: string;
  /** The failing pack as an archive, for `POST /api/packs`. */
  failingTgz: string;
}

let prep: Prepared;

/** Runs `tapline pack ...` on Node in the shared folder. */
async function onNode(...args: string[]): Promise<RunResult> {
  const r = await runTapline("node", ["pack", ...args], PACK_MS, { cwd: prep.dir });
  if (r.code !== 0) throw new Error(`node: tapline pack ${args.join(" ")}\n${show(r)}`);
  return r;
}

before(async () => {
  const dir = tempDir("tapline-packs-shared-");
  prep = {
    dir,
    folder: join(dir, "slow-folder"),
    tgz: join(dir, "slow-tgz.tgz"),
    tgzFolder: join(dir, "slow-tgz"),
    tgzIntegrity: "",
    npmFolder: join(dir, "npm"),
    npmTgz: "",
    npmByNpm: false,
    failing: join(dir, "slow-failing"),
    signedTgz: join(dir, "slow-signed.tgz"),
    alteredTgz: join(dir, "slow-signed-altered.tgz"),
    key1Pub: join(dir, "key1.pem.pub"),
    key2Pub: join(dir, "key2.pem.pub"),
    key1: "",
    uploadTgz: join(dir, "slow-upload.tgz"),
    uploadConflictTgz: join(dir, "slow-upload-conflict.tgz"),
    failingTgz: join(dir, "slow-failing.tgz"),
  };
  await Promise.all([
    onNode("init", "slow-folder"),
    onNode("init", "slow-tgz"),
    onNode("init", "slow-npm", "--dir", "npm/pack"),
    onNode("init", "slow-failing"),
    onNode("init", "slow-signed"),
    onNode("init", "slow-upload"),
  ]);
  await Promise.all([onNode("keygen", "key1.pem"), onNode("keygen", "key2.pem")]);
  prep.key1 = readFileSync(prep.key1Pub, "utf8").trim();

  // The failing pack: its first fixture expects what the plugin does not write.
  const fixture = join(prep.failing, "fixtures", "tag-slow.yaml");
  const text = readFileSync(fixture, "utf8");
  assert.ok(text.includes('tags: { slow: "true" }'), "pack init's fixture tags slow exchanges");
  writeFileSync(fixture, text.replace('tags: { slow: "true" }', 'tags: { slow: "yes" }'));

  // An npm package holding the pack under pack/.
  writeFileSync(
    join(prep.npmFolder, "package.json"),
    JSON.stringify({ name: "slow-npm", version: VERSION, "tapline-pack": "pack/tapline-pack.yaml" }, null, 2) + "\n",
  );
  const packed = npmPack(prep.npmFolder, dir, join(dir, "npm-cache"));
  prep.npmTgz = packed.file;
  prep.npmByNpm = packed.byNpm;

  const [built] = await Promise.all([
    onNode("build", "slow-tgz", "--out", prep.tgz, "--json"),
    onNode("build", "slow-signed", "--out", prep.signedTgz, "--sign", "key1.pem", "--json"),
    onNode("build", "slow-upload", "--out", prep.uploadTgz, "--json"),
  ]);
  prep.tgzIntegrity = String((JSON.parse(built.stdout) as Record<string, unknown>)["integrity"]);

  // The signed archive re-packed with one byte of the plugin changed and the old signature.
  const files = readTgz(readFileSync(prep.signedTgz));
  assert.ok(files.has("tapline-pack.sig"), "the signed archive holds tapline-pack.sig");
  const plugin = Buffer.from(files.get("plugins/tag-slow.js")!);
  const at = plugin.indexOf("threshold = 500");
  assert.ok(at > 0, "the plugin sets its default threshold");
  plugin[at + "threshold = ".length] = "6".charCodeAt(0); // 500 -> 600
  files.set("plugins/tag-slow.js", plugin);
  writeTgz(prep.alteredTgz, files);

  const conflicting = readTgz(readFileSync(prep.uploadTgz));
  conflicting.set("README.md", Buffer.concat([Buffer.from(conflicting.get("README.md")!), Buffer.from("More.\n")]));
  writeTgz(prep.uploadConflictTgz, conflicting);
  writeTgz(prep.failingTgz, folderFiles(prep.failing));
});

after(() => removeDir(prep?.dir));

for (const runtime of runtimes) {
  describe(`${runtime}: plugin packs`, { timeout: 180_000 }, () => {
    let dir: string;
    let data: string;
    let up: Upstream;
    let tap: Tapline | undefined;
    const jsonl = () => join(dir, "api.jsonl");
    const pack = (...args: string[]) => runTapline(runtime, ["pack", ...args], PACK_MS, { cwd: dir });
    const lockText = () =>
      existsSync(join(data, "tapline.lock")) ? readFileSync(join(data, "tapline.lock"), "utf8") : "";
    const lock = () => JSON.parse(lockText()) as { lockfile_version: number; packs: Record<string, LockEntry> };
    const installed = () => Object.keys(lock().packs).sort();

    const admin = (path: string) => `http://127.0.0.1:${tap!.adminPort()}${path}`;
    // The admin token tapline generated in its data dir, <dir>/data, as in the plugin-reload tests.
    const token = () => adminToken(dir);
    const api = async (method: string, path: string, body?: unknown) => {
      const raw = body instanceof Uint8Array;
      const res = await request(admin(path), {
        method,
        headers: {
          "content-type": raw ? "application/gzip" : "application/json",
          authorization: `Bearer ${token()}`,
        },
        ...(body === undefined ? {} : { body: raw ? Buffer.from(body) : JSON.stringify(body) }),
        timeoutMs: 30_000,
      });
      const text = res.body.toString("utf8");
      return { status: res.status, json: text ? JSON.parse(text) as Record<string, unknown> : {} };
    };
    const packIds = async () => {
      const res = await api("GET", "/api/packs");
      assert.equal(res.status, 200, JSON.stringify(res.json));
      return (res.json["packs"] as Record<string, unknown>[]).map((p) => `${p["name"]}@${p["version"]}`).sort();
    };

    before(async () => {
      dir = tempDir("tapline-packs-");
      data = join(dir, "data");
      up = await startUpstream("packs");
    });

    after(() => tearDown(tap, [up], dir));

    test(
      "installs from a folder, a .tgz and an npm pack tarball; pack list --json shows them; the lock holds every file's SHA-256",
      T,
      async () => {
        const fromFolder = json(await pack("install", prep.folder, "--data-dir", data, "--json"));
        assert.equal(fromFolder["pack"], `slow-folder@${VERSION}`);
        assert.equal(fromFolder["unchanged"], false);
        assert.equal(fromFolder["dir"], join(data, "packs", `slow-folder@${VERSION}`));
        const fromTgz = json(await pack("install", prep.tgz, "--data-dir", data, "--json"));
        assert.equal(fromTgz["pack"], `slow-tgz@${VERSION}`);
        const fromNpm = json(await pack("install", prep.npmTgz, "--data-dir", data, "--json"));
        assert.equal(fromNpm["pack"], `slow-npm@${VERSION}`, `tarball made ${prep.npmByNpm ? "by npm pack" : "here"}`);

        const listed = json(await pack("list", "--data-dir", data, "--json"));
        const entries = listed["packs"] as LockEntry[];
        assert.deepEqual(
          entries.map((e) => `${e.name}@${e.version}`),
          [`slow-folder@${VERSION}`, `slow-npm@${VERSION}`, `slow-tgz@${VERSION}`],
        );
        const { lockfile_version, packs } = lock();
        assert.equal(lockfile_version, 1);
        assert.deepEqual(entries, Object.values(packs).sort((a, b) => a.name.localeCompare(b.name)));

        // name, files, source, integrity of the archive (a folder's is that of the archive pack build makes)
        const expected: Array<[string, Map<string, Uint8Array>, string, string | undefined]> = [
          ["slow-folder", folderFiles(prep.folder), prep.folder, undefined],
          ["slow-tgz", folderFiles(prep.tgzFolder), prep.tgz, integrityOf(readFileSync(prep.tgz))],
          // npm's package.json stays outside: the pack is re-rooted at pack/.
          ["slow-npm", folderFiles(join(prep.npmFolder, "pack")), prep.npmTgz, integrityOf(readFileSync(prep.npmTgz))],
        ];
        for (const [name, files, source, integrity] of expected) {
          const id = `${name}@${VERSION}`;
          const entry = packs[id]!;
          assert.ok(entry, `${id} is in the lock`);
          assert.deepEqual(entry.files, fileHashes(files), `${id}: the lock has the SHA-256 of every file`);
          assert.ok(Object.keys(entry.files).length >= 4, `${id}: manifest, plugin, fixtures, README`);
          for (const [path, hash] of Object.entries(entry.files)) {
            assert.equal(sha256Hex(readFileSync(join(data, "packs", id, path))), hash, `${id}/${path} on disk`);
          }
          assert.deepEqual(
            [...folderFiles(join(data, "packs", id)).keys()].sort(),
            Object.keys(entry.files).sort(),
            `${id}: nothing else in its folder`,
          );
          assert.equal(entry.source, source);
          assert.deepEqual(entry.plugins, ["tag-slow"]);
          if (integrity) assert.equal(entry.integrity, integrity, `${id}: integrity of its archive`);
          else assert.match(entry.integrity, /^sha256-[A-Za-z0-9+/]{43}=$/);
        }
        assert.equal(packs[`slow-tgz@${VERSION}`]!.integrity, prep.tgzIntegrity, "the integrity pack build printed");
        assert.ok(!("package.json" in packs[`slow-npm@${VERSION}`]!.files));

        const again = json(await pack("install", prep.tgz, "--data-dir", data, "--json"));
        assert.equal(again["unchanged"], true, "the same pack again changes nothing");
      },
    );

    test(
      "installs from http://127.0.0.1 with --integrity; without it, or with a wrong one, it is refused",
      T,
      async () => {
        const bytes = readFileSync(prep.tgz);
        const server: Server = createServer((req, res) => {
          if (req.url !== "/slow-tgz.tgz") return res.writeHead(404).end();
          res.writeHead(200, { "content-type": "application/gzip", "content-length": bytes.byteLength }).end(bytes);
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow-tgz.tgz`;
        const urlData = join(dir, "url-data");
        try {
          const ok = json(
            await pack("install", url, "--integrity", prep.tgzIntegrity, "--data-dir", urlData, "--json"),
          );
          assert.equal(ok["pack"], `slow-tgz@${VERSION}`);
          const entry = ok["entry"] as LockEntry;
          assert.equal(entry.source, url);
          assert.equal(entry.integrity, prep.tgzIntegrity);

          const wrong = `sha256-${Buffer.alloc(32, 7).toString("base64")}`;
          const mismatch = await pack("install", url, "--integrity", wrong, "--data-dir", join(dir, "url-wrong"));
          assert.equal(mismatch.code, 78, show(mismatch));
          assert.match(mismatch.stderr, /does not match its integrity/, show(mismatch));
          assert.equal(existsSync(join(dir, "url-wrong", "tapline.lock")), false, "nothing installed");

          const missing = await pack("install", url, "--data-dir", join(dir, "url-wrong"));
          assert.equal(missing.code, 64, show(missing));
          assert.match(missing.stderr, /--integrity/, show(missing));
          assertNoStack(mismatch);
          assertNoStack(missing);
        } finally {
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
        }
      },
    );

    test("installs an npm spec (file:<absolute folder>) through npm pack", T, async (t) => {
      if (!prep.npmByNpm) return t.skip("no npm CLI on this machine");
      const npmData = join(dir, "npm-data");
      const r = await runTapline(
        runtime,
        ["pack", "install", `file:${prep.npmFolder}`, "--data-dir", npmData, "--json"],
        PACK_MS,
        { cwd: dir, env: npmEnv(join(dir, "npm-cache")) },
      );
      const out = json(r);
      assert.equal(out["pack"], `slow-npm@${VERSION}`);
      const entry = out["entry"] as LockEntry;
      assert.equal(entry.source, `npm:slow-npm@${VERSION}`);
      assert.deepEqual(entry.files, fileHashes(folderFiles(join(prep.npmFolder, "pack"))));
    });

    test("a relative npm spec (file:./npm) is resolved against the working directory", T, async (t) => {
      if (!prep.npmByNpm) return t.skip("no npm CLI on this machine");
      const npmData = join(dir, "npm-relative-data");
      // Run where ./npm is the package folder, as a person would after `cd`.
      const r = await runTapline(
        runtime,
        ["pack", "install", "file:./npm", "--data-dir", npmData, "--json"],
        PACK_MS,
        { cwd: prep.dir, env: npmEnv(join(dir, "npm-cache")) },
      );
      assert.equal(r.code, 0, show(r));
      assert.equal(json(r)["pack"], `slow-npm@${VERSION}`);
    });

    test("a file changed after install: a tapline using the pack exits 78 naming the file", T, async () => {
      const id = `slow-folder@${VERSION}`;
      const file = join(data, "packs", id, "plugins", "tag-slow.js");
      const bytes = readFileSync(file);
      bytes[bytes.indexOf("threshold = 500") + "threshold = ".length] = "1".charCodeAt(0);
      writeFileSync(file, bytes);
      const config = writeConfig(dir, "tampered.yaml", {
        data_dir: data,
        proxies: [{ name: "api", listen_http: "127.0.0.1:0", upstream: up.url }],
        plugins: [{ id: "slow", use: `slow-folder/tag-slow@${VERSION}`, config: { threshold_ms: 0 } }],
      });
      // The harness gives every process a TAPLINE_DATA_DIR, which would win over YAML's data_dir.
      const r = await runTapline(runtime, ["--config", config], 30_000, { cwd: dir, env: { TAPLINE_DATA_DIR: "" } });
      assert.equal(r.code, 78, show(r));
      assert.ok(r.stderr.includes(file), `stderr names ${file}\n${show(r)}`);
      assert.match(r.stderr, /changed after install/, show(r));
      assert.doesNotMatch(r.stderr, /"msg":"ready"/, "never got ready");
      assertNoStack(r);
    });

    test("a failing fixture: pack install exits 78, prints its diff, and installs nothing", T, async () => {
      const before = lockText();
      const r = await pack("install", prep.failing, "--data-dir", data);
      assert.equal(r.code, 78, show(r));
      assert.match(r.stdout, /✗ tags an exchange slower than the threshold/, show(r));
      assert.match(r.stdout, /^\s*-\s+"slow": "yes"$/m, `the expected line, with -\n${show(r)}`);
      assert.match(r.stdout, /^\s*\+\s+"slow": "true"$/m, `the actual line, with +\n${show(r)}`);
      assert.match(r.stderr, /slow-failing@0\.1\.0: 1 of 2 fixtures failed/, show(r));
      assertNoStack(r);

      const scripted = await pack("install", prep.failing, "--data-dir", data, "--json");
      assert.equal(scripted.code, 78, show(scripted));
      const out = JSON.parse(scripted.stdout) as { ok: boolean; code: string; fixtures: Record<string, unknown>[] };
      assert.equal(out.ok, false);
      assert.equal(out.code, "pack_fixtures");
      const diff = String(out.fixtures.find((f) => f["passed"] === false)?.["diff"]);
      assert.match(diff, /^-\s+"slow": "yes"$/m, diff);
      assert.match(diff, /^\+\s+"slow": "true"$/m, diff);

      assert.equal(existsSync(join(data, "packs", `slow-failing@${VERSION}`)), false, "no folder");
      assert.deepEqual(readdirSync(join(data, "packs")).filter((n) => n.startsWith(".")), [], "no temporary folder");
      assert.equal(lockText(), before, "the lock is unchanged");
      assert.ok(!installed().includes(`slow-failing@${VERSION}`));
    });

    test(
      "signatures: a trusted key installs; another key, an unsigned pack and an altered signed archive are refused",
      T,
      async () => {
        const before = lockText();
        const other = await pack("install", prep.signedTgz, "--data-dir", data, "--trusted-keys", prep.key2Pub);
        assert.equal(other.code, 78, show(other));
        assert.match(other.stderr, /is signed by ed25519:\S+, which is not a trusted key/, show(other));
        assert.ok(other.stderr.includes(prep.key1), `names the key that signed it\n${show(other)}`);

        const unsigned = await pack("install", prep.tgz, "--data-dir", data, "--trusted-keys", prep.key1Pub);
        assert.equal(unsigned.code, 78, show(unsigned));
        assert.match(unsigned.stderr, /slow-tgz@0\.1\.0 is not signed/, show(unsigned));

        for (const keys of [["--trusted-keys", prep.key1Pub], []]) {
          const altered = await pack("install", prep.alteredTgz, "--data-dir", data, ...keys);
          assert.equal(altered.code, 78, show(altered));
          assert.match(altered.stderr, /bad signature: the signature does not match/, show(altered));
        }
        for (const r of [other, unsigned]) assertNoStack(r);
        assert.equal(lockText(), before, "nothing refused was installed");
        assert.equal(existsSync(join(data, "packs", `slow-signed@${VERSION}`)), false);

        const trusted = json(
          await pack("install", prep.signedTgz, "--data-dir", data, "--trusted-keys", prep.key1Pub, "--json"),
        );
        assert.equal(trusted["pack"], `slow-signed@${VERSION}`);
        assert.equal(lock().packs[`slow-signed@${VERSION}`]!.signed_by, prep.key1, "the lock records the signer");
        assert.ok(lock().packs[`slow-signed@${VERSION}`]!.files["tapline-pack.sig"], "the signature is kept");

        // Trusted keys apply when a pack loads, too: the unsigned slow-tgz installed earlier is refused.
        const config = writeConfig(dir, "trusted.yaml", {
          data_dir: data,
          trusted_keys: [prep.key1],
          proxies: [{ name: "api", listen_http: "127.0.0.1:0", upstream: up.url }],
          plugins: [{ id: "slow", use: `slow-tgz/tag-slow@${VERSION}` }],
        });
        const load = await runTapline(runtime, ["--config", config], 30_000, {
          cwd: dir,
          env: { TAPLINE_DATA_DIR: "" },
        });
        assert.equal(load.code, 78, show(load));
        assert.match(load.stderr, /slow-tgz@0\.1\.0 is not signed/, show(load));
        assertNoStack(load);
      },
    );

    test(
      `a pack built by pack build on Node installs on ${runtime} and tags records through YAML use:`,
      T,
      async () => {
        const config = writeConfig(dir, "tapline.yaml", {
          data_dir: data,
          listen_admin: "127.0.0.1:0",
          flush_interval: "50ms",
          proxies: [{ name: "api", listen_http: "127.0.0.1:0", upstream: up.url, log_jsonl: jsonl() }],
          plugins: [{ id: "slow", use: `slow-tgz/tag-slow@${VERSION}`, config: { threshold_ms: 0 } }],
        });
        // YAML's data_dir holds the packs: the harness's TAPLINE_DATA_DIR would win over it.
        tap = await startTapline(runtime, ["--config", config], { cwd: dir, env: { TAPLINE_DATA_DIR: "" } });
        const m = marker("yaml");
        const res = await request(tap.url("api", `/yaml?m=${m}`), { timeoutMs: 10_000 });
        assert.equal(res.status, 200);
        const record = await recordFor(jsonl(), m);
        assert.equal(record.tags?.["slow"], "true", "tag-slow of the pack tagged the record");
        assert.equal(record.plugin_generation, 1);
        const loaded = tap.logs.find((l) => l.msg === "plugin loaded" && l["plugin"] === "slow");
        assert.ok(loaded, tap.stderrTail());
      },
    );

    test("PUT /api/plugins loads a pack plugin into the running tapline", T, async () => {
      assert.ok(tap, "tapline is running");
      const missing = await api("PUT", "/api/plugins", { plugins: [{ id: "x", use: "no-such-pack/tag-slow@1.0.0" }] });
      assert.equal(missing.status, 422, JSON.stringify(missing.json));
      assert.match(JSON.stringify(missing.json), /no-such-pack is not installed/);
      const tampered = await api("PUT", "/api/plugins", {
        plugins: [{ id: "x", use: `slow-folder/tag-slow@${VERSION}` }],
      });
      assert.equal(tampered.status, 422, JSON.stringify(tampered.json));
      assert.match(JSON.stringify(tampered.json), /plugins\/tag-slow\.js changed after install/);
      assert.equal((await api("GET", "/api/plugins")).json["generation"], 1, "a refused set leaves the running one");

      const put = await api("PUT", "/api/plugins", {
        plugins: [{ id: "npm-slow", use: `slow-npm/tag-slow@${VERSION}`, config: { threshold_ms: 0 } }],
      });
      assert.equal(put.status, 200, JSON.stringify(put.json));
      const generation = put.json["generation"] as number;
      assert.ok(generation > 1);
      const running = await api("GET", "/api/plugins");
      assert.deepEqual((running.json["plugins"] as Record<string, unknown>[]).map((p) => p["id"]), ["npm-slow"]);
      const m = marker("put");
      assert.equal((await request(tap!.url("api", `/put?m=${m}`), { timeoutMs: 10_000 })).status, 200);
      const record = await recordFor(jsonl(), m);
      assert.equal(record.plugin_generation, generation, "the record went through the new set");
      assert.equal(record.tags?.["slow"], "true");
    });

    test("DELETE /api/packs/<id> answers 409 while a running plugin uses it, 200 once it does not", T, async () => {
      assert.ok(tap, "tapline is running");
      const id = `slow-npm@${VERSION}`;
      const listed = await api("GET", "/api/packs");
      const view = (listed.json["packs"] as Record<string, unknown>[]).find((p) =>
        `${p["name"]}@${p["version"]}` === id
      );
      assert.deepEqual(view?.["used_by"], ["npm-slow"]);

      const busy = await api("DELETE", `/api/packs/${id}`);
      assert.equal(busy.status, 409, JSON.stringify(busy.json));
      assert.equal((busy.json["error"] as Record<string, unknown>)["code"], "pack_in_use");
      assert.ok((await packIds()).includes(id), "still installed");
      assert.ok(existsSync(join(data, "packs", id)));

      const away = await api("PUT", "/api/plugins", {
        plugins: [{ id: "slow", use: `slow-tgz/tag-slow@${VERSION}`, config: { threshold_ms: 0 } }],
      });
      assert.equal(away.status, 200, JSON.stringify(away.json));
      const removed = await api("DELETE", `/api/packs/${id}`);
      assert.equal(removed.status, 200, JSON.stringify(removed.json));
      assert.ok(!(await packIds()).includes(id), "gone from GET /api/packs");
      assert.equal(existsSync(join(data, "packs", id)), false, "its folder is gone");
      assert.ok(!installed().includes(id), "and its lock entry");
      assert.equal((await api("DELETE", `/api/packs/${id}`)).status, 404);
    });

    test("POST /api/packs while the proxy serves traffic: 201, and none of 200 requests fails", T, async () => {
      assert.ok(tap, "tapline is running");
      const archive = readFileSync(prep.uploadTgz);
      const agent = new Agent({ keepAlive: true, maxSockets: 4 });
      const TOTAL = 200;
      const m = marker("upload");
      let sent = 0;
      let failed = 0;
      let uploading = true;
      let upload: { status: number; json: Record<string, unknown> } | undefined;
      let uploadStart = 0;
      let uploadEnd = 0;
      /** Requests whose lifetime overlapped the upload. */
      let overlapping = 0;
      const spans: Array<[number, number]> = [];
      const load = Promise.all(Array.from({ length: 4 }, async () => {
        while (sent < TOTAL || uploading) {
          const n = sent++;
          const started = performance.now();
          const res = await request(tap!.url("api", `/load?m=${m}&n=${n}`), { agent, timeoutMs: 15_000 })
            .catch(() => undefined);
          spans.push([started, performance.now()]);
          if (res?.status !== 200) failed++;
        }
      }));
      try {
        while (sent < 20) await new Promise((resolve) => setTimeout(resolve, 5));
        uploadStart = performance.now();
        upload = await api("POST", "/api/packs", archive);
        uploadEnd = performance.now();
      } finally {
        uploading = false;
        await load;
        agent.destroy();
      }
      for (const [start, end] of spans) if (start < uploadEnd && end > uploadStart) overlapping++;
      assert.equal(upload.status, 201, JSON.stringify(upload.json));
      assert.equal((upload.json["pack"] as Record<string, unknown>)["source"], "upload");
      assert.equal(upload.json["fixtures"], 2);
      assert.equal(failed, 0, `no request failed (of ${sent})`);
      assert.ok(sent >= TOTAL);
      assert.ok(overlapping > 0, "requests were in flight during the upload");
      assert.ok((await packIds()).includes(`slow-upload@${VERSION}`));
      assert.deepEqual(
        lock().packs[`slow-upload@${VERSION}`]!.files,
        fileHashes(folderFiles(join(prep.dir, "slow-upload"))),
        "the lock has every file of the upload",
      );
      const again = await api("POST", "/api/packs", archive);
      assert.equal(again.status, 200, "the same archive again is unchanged");

      // Every request was captured, through the pack plugin.
      let records = readRecords(jsonl()).filter((r) => r.request.url.includes(m));
      for (let i = 0; i < 100 && records.length < sent; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        records = readRecords(jsonl()).filter((r) => r.request.url.includes(m));
      }
      assert.equal(records.length, sent, "one record per request");
      assert.ok(records.every((r) => r.tags?.["slow"] === "true"), "each tagged by the pack plugin");
    });

    test(
      "POST /api/packs: 422 with the diff of a failing fixture, 409 for the same version with other files",
      T,
      async () => {
        assert.ok(tap, "tapline is running");
        const before = lockText();
        const failing = await api("POST", "/api/packs", readFileSync(prep.failingTgz));
        assert.equal(failing.status, 422, JSON.stringify(failing.json));
        const error = failing.json["error"] as { code: string; fixtures: Record<string, unknown>[] };
        assert.equal(error.code, "pack_fixtures");
        assert.match(String(error.fixtures[0]?.["diff"]), /^-\s+"slow": "yes"$/m);
        const conflict = await api("POST", "/api/packs", readFileSync(prep.uploadConflictTgz));
        assert.equal(conflict.status, 409, JSON.stringify(conflict.json));
        assert.equal((conflict.json["error"] as Record<string, unknown>)["code"], "pack_conflict");
        const garbage = await api("POST", "/api/packs", Buffer.from("not a tgz"));
        assert.equal(garbage.status, 422, JSON.stringify(garbage.json));
        assert.equal(lockText(), before, "nothing refused was installed");
        assert.equal(existsSync(join(data, "packs", `slow-failing@${VERSION}`)), false);
      },
    );
  });
}
