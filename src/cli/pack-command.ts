/**
 * `tapline pack init|test|build|install|list|remove|keygen`: plugin packs
 * from a shell. Lines for people (with progress on a terminal), `--json` for
 * scripts. Exit codes: 0 done, 1 a fixture failed, 64 usage, 78 a pack or
 * config that is refused.
 */
import { loadYamlConfig } from "../config/yaml.ts";
import { buildArchive } from "../plugins/packs/archive.ts";
import type { FixtureResult } from "../plugins/packs/fixtures.ts";
import { integrityOf } from "../plugins/packs/integrity.ts";
import { checkPack, describeFailure, PackError, packRoot } from "../plugins/packs/pack-check.ts";
import { type PackContents, readPackFolder } from "../plugins/packs/pack-files.ts";
import { packId } from "../plugins/packs/pack-manifest.ts";
import { generateKeyPair, SIGNATURE_FILE, signPack } from "../plugins/packs/signature.ts";
import type { Runtime } from "../runtime/types.ts";
import { UsageError } from "../shared/errors.ts";
import { createLogger } from "../shared/logger.ts";
import { VERSION } from "../version.ts";
import { scaffoldPack } from "./pack-init.ts";
import { fetchPack } from "./pack-source.ts";
import { openPackStore, trustedKeysOf } from "./pack-store.ts";

const USAGE = `tapline pack init NAME [--dir DIR]
       tapline pack test [DIR] [--json]
       tapline pack build [DIR] [--out FILE] [--sign KEYFILE] [--json]
       tapline pack install SOURCE [--integrity SRI] [--json]
       tapline pack list [--json]
       tapline pack remove NAME[@VERSION] [--json]
       tapline pack keygen FILE
  SOURCE: a folder, a .tgz, an https:// URL (with --integrity) or an npm package spec.
  Where packs are installed: --data-dir DIR, TAPLINE_DATA_DIR, or data_dir of --config FILE
  (or TAPLINE_CONFIG); default ./data. Trusted keys: --trusted-keys FILE, TAPLINE_TRUSTED_KEYS,
  or trusted_keys of the config file.`;

const ACTIONS = ["init", "test", "build", "install", "list", "remove", "keygen"] as const;
type Action = typeof ACTIONS[number];

/** A parsed `tapline pack` command line. */
export interface PackArgs {
  action: Action;
  target?: string;
  json: boolean;
  dir?: string;
  out?: string;
  sign?: string;
  integrity?: string;
  dataDir?: string;
  config?: string;
  trustedKeys?: string;
}

/**
 * Parses the arguments after `tapline pack`.
 *
 * @throws UsageError naming what is missing or unknown.
 */
export function parsePackArgs(argv: readonly string[]): PackArgs {
  const rest: string[] = [];
  const args: Partial<PackArgs> & { json: boolean } = { json: false };
  const flags: Record<string, keyof PackArgs> = {
    "--dir": "dir",
    "--out": "out",
    "--sign": "sign",
    "--integrity": "integrity",
    "--data-dir": "dataDir",
    "--config": "config",
    "--trusted-keys": "trustedKeys",
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    if (flag === "--json") args.json = true;
    else if (flags[flag!]) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === "") throw new UsageError(`${flag} needs a value.\nUsage: ${USAGE}`);
      (args as Record<string, unknown>)[flags[flag!]!] = value;
    } else if (flag!.startsWith("-")) throw new UsageError(`Unknown option ${flag}.\nUsage: ${USAGE}`);
    else rest.push(arg);
  }
  const [action, target, extra] = rest;
  if (!ACTIONS.includes(action as Action)) {
    throw new UsageError(`Unknown pack command ${JSON.stringify(action ?? "")}.\nUsage: ${USAGE}`);
  }
  const needsTarget = ["init", "install", "remove", "keygen"].includes(action!);
  const takesTarget = needsTarget || ["test", "build"].includes(action!);
  if (extra !== undefined || (needsTarget && target === undefined) || (!takesTarget && target !== undefined)) {
    throw new UsageError(`Wrong arguments for "pack ${action}".\nUsage: ${USAGE}`);
  }
  return { ...args, action: action as Action, ...(target !== undefined ? { target } : {}) };
}

/** Runs `tapline pack ARGS`; returns the exit code (errors are thrown for main to report). */
export async function runPackCommand(argv: readonly string[], runtime: Runtime): Promise<number> {
  if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) {
    runtime.writeStdout(`Usage: ${USAGE}\n`);
    return 0;
  }
  const args = parsePackArgs(argv);
  const out = new Output(runtime, args.json);
  try {
    switch (args.action) {
      case "init":
        return await init(args, runtime, out);
      case "test":
        return await test(args, runtime, out);
      case "build":
        return await build(args, runtime, out);
      case "install":
        return await install(args, runtime, out);
      case "list":
        return await list(args, runtime, out);
      case "remove":
        return await remove(args, runtime, out);
      case "keygen":
        return await keygen(args, runtime, out);
    }
  } catch (error) {
    if (error instanceof PackError && error.fixtures) {
      // `pack test` printed each fixture as it ran; the others show the failures.
      if (args.action !== "test") out.fixtures(error.fixtures.filter((result) => !result.passed));
      out.result({ ok: false, error: error.message, code: error.code, fixtures: error.fixtures.map(fixtureJson) });
      if (!args.json) runtime.writeStderr(`tapline: ${error.message.split("\n")[0]}\n`);
      return args.action === "test" ? 1 : 78;
    }
    if (args.json && error instanceof Error && "code" in error) {
      out.result({ ok: false, error: error.message, code: (error as { code: string }).code });
      return (error as { exitCode?: number }).exitCode ?? 70;
    }
    throw error;
  }
}

/** Prints lines for people or one JSON document for scripts, and progress on a terminal. */
class Output {
  readonly #runtime: Runtime;
  readonly #json: boolean;
  #progress = false;

  constructor(runtime: Runtime, json: boolean) {
    this.#runtime = runtime;
    this.#json = json;
  }

  line(text: string): void {
    if (this.#json) return;
    this.#clear();
    this.#runtime.writeStdout(text + "\n");
  }

  /** A transient line on stderr (a terminal only). */
  progress(text: string): void {
    if (this.#json || !this.#runtime.stderrIsTerminal()) return;
    this.#runtime.writeStderr(`\r${text}\x1b[K`);
    this.#progress = true;
  }

  fixtures(results: FixtureResult[]): void {
    for (const result of results) {
      this.line(
        result.passed
          ? `  ✓ ${result.fixture.name} (${result.fixture.source}) ${result.ms.toFixed(0)} ms`
          : describeFailure(result),
      );
    }
  }

  result(value: Record<string, unknown>): void {
    this.#clear();
    if (this.#json) this.#runtime.writeStdout(JSON.stringify(value, null, 2) + "\n");
  }

  #clear(): void {
    if (!this.#progress) return;
    this.#runtime.writeStderr("\r\x1b[K");
    this.#progress = false;
  }
}

function fixtureJson(result: FixtureResult): Record<string, unknown> {
  return {
    name: result.fixture.name,
    plugin: result.fixture.plugin,
    source: result.fixture.source,
    passed: result.passed,
    ms: Math.round(result.ms * 10) / 10,
    ...(result.diff ? { diff: result.diff } : {}),
    ...(result.error ? { error: result.error } : {}),
  };
}

const quietLogger = () => createLogger("error", "json", () => {});

async function init(args: PackArgs, runtime: Runtime, out: Output): Promise<number> {
  const name = args.target!;
  if (!/^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/.test(name)) {
    throw new UsageError(`"${name}" is not a pack name: lower case, optionally scoped, such as pii or @acme/pii`);
  }
  const dir = args.dir ?? name.split("/").pop()!;
  if ((await runtime.packFiles.kind(dir)) !== undefined && (await runtime.packFiles.list(dir)).length > 0) {
    throw new UsageError(`${dir} exists and is not empty: choose another folder with --dir`);
  }
  const files = scaffoldPack(name);
  for (const [path, text] of files) await runtime.packFiles.writeFile(`${dir}/${path}`, new TextEncoder().encode(text));
  out.line(`Created ${dir}/ with ${[...files.keys()].join(", ")}`);
  out.line(`Next: cd ${dir} && tapline pack test`);
  out.result({ ok: true, dir, files: [...files.keys()] });
  return 0;
}

async function readFolder(dir: string, runtime: Runtime): Promise<PackContents> {
  if ((await runtime.packFiles.kind(dir)) !== "directory") throw new UsageError(`${dir} is not a folder`);
  return await readPackFolder(runtime.packFiles, dir);
}

async function test(args: PackArgs, runtime: Runtime, out: Output): Promise<number> {
  const dir = args.target ?? ".";
  const contents = await readFolder(dir, runtime);
  const checked = await checkPack(contents, dir, {
    taplineVersion: VERSION,
    logger: quietLogger(),
    onFixture: (result, done, total) => {
      out.fixtures([result]);
      out.progress(`fixtures ${done}/${total}`);
    },
  });
  out.line(`${packId(checked.manifest)}: ${checked.fixtures.length} fixtures passed`);
  out.result({ ok: true, pack: packId(checked.manifest), fixtures: checked.fixtures.map(fixtureJson) });
  return 0;
}

async function build(args: PackArgs, runtime: Runtime, out: Output): Promise<number> {
  const dir = args.target ?? ".";
  let contents = packRoot(await readFolder(dir, runtime), dir);
  contents.delete(SIGNATURE_FILE);
  const checked = await checkPack(contents, dir, {
    taplineVersion: VERSION,
    logger: quietLogger(),
    onFixture: (_result, done, total) => out.progress(`fixtures ${done}/${total}`),
  });
  contents = checked.contents;
  let signedBy: string | undefined;
  if (args.sign) {
    const signature = await signPack(contents, await runtime.readTextFile(args.sign));
    contents = new Map([...contents, [SIGNATURE_FILE, new TextEncoder().encode(signature)]]);
    signedBy = (JSON.parse(signature) as { key: string }).key;
  }
  const archive = await buildArchive(contents);
  const { manifest } = checked;
  const file = args.out ?? `${manifest.name.replace(/^@/, "").replace("/", "-")}-${manifest.version}.tgz`;
  await runtime.packFiles.writeFile(file, archive);
  const integrity = await integrityOf(archive);
  out.line(
    `${packId(manifest)}: ${checked.fixtures.length} fixtures passed${signedBy ? `, signed by ${signedBy}` : ""}`,
  );
  out.line(`Wrote ${file} (${archive.byteLength} bytes)`);
  out.line(`integrity ${integrity}`);
  out.result({
    ok: true,
    pack: packId(manifest),
    file,
    bytes: archive.byteLength,
    integrity,
    ...(signedBy ? { signed_by: signedBy } : {}),
  });
  return 0;
}

/**
 * The data dir and trusted keys of the command line, as the proxy would see
 * them: flags over `TAPLINE_DATA_DIR` / `TAPLINE_TRUSTED_KEYS` over the YAML
 * file (`--config` or `TAPLINE_CONFIG`).
 */
async function storeFor(args: PackArgs, runtime: Runtime) {
  let fromConfig: { dataDir?: string; trustedKeys?: string[]; trustedKeysFile?: string } = {};
  const env = runtime.env();
  const configFile = args.config ?? (env["TAPLINE_CONFIG"] || undefined);
  if (configFile) {
    const layer = await loadYamlConfig(configFile, runtime.readTextFile);
    fromConfig = {
      ...(layer.globals.dataDir !== undefined ? { dataDir: layer.globals.dataDir } : {}),
      ...(layer.trustedKeys ? { trustedKeys: layer.trustedKeys } : {}),
      ...(layer.globals.trustedKeysFile !== undefined ? { trustedKeysFile: layer.globals.trustedKeysFile } : {}),
    };
  }
  const fromEnv = {
    ...(env["TAPLINE_DATA_DIR"] ? { dataDir: env["TAPLINE_DATA_DIR"] } : {}),
    ...(env["TAPLINE_TRUSTED_KEYS"] ? { trustedKeysFile: env["TAPLINE_TRUSTED_KEYS"] } : {}),
  };
  const config = {
    ...fromConfig,
    ...fromEnv,
    ...(args.dataDir ? { dataDir: args.dataDir } : {}),
    ...(args.trustedKeys ? { trustedKeysFile: args.trustedKeys } : {}),
  };
  await trustedKeysOf(config, runtime);
  return await openPackStore(config, runtime, createLogger("warn", "text", (line) => runtime.writeStderr(line + "\n")));
}

async function install(args: PackArgs, runtime: Runtime, out: Output): Promise<number> {
  const store = await storeFor(args, runtime);
  const fetched = await fetchPack(args.target!, {
    runtime,
    ...(args.integrity ? { integrity: args.integrity } : {}),
    onDownload: (received, total) =>
      out.progress(
        `downloading ${(received / 1024).toFixed(0)} KiB${total ? ` of ${(total / 1024).toFixed(0)} KiB` : ""}`,
      ),
  });
  const { entry, checked, unchanged } = await store.install(fetched.contents, fetched, {
    onFixture: (_result, done, total) => out.progress(`fixtures ${done}/${total}`),
  });
  const id = packId(entry);
  out.line(
    unchanged
      ? `${id} is already installed with the same files`
      : `Installed ${id} into ${store.dirOf(entry)} (${checked.fixtures.length} fixtures passed)`,
  );
  out.line(`plugins: ${entry.plugins.map((plugin) => `${entry.name}/${plugin}@${entry.version}`).join(", ")}`);
  out.result({ ok: true, pack: id, unchanged, dir: store.dirOf(entry), entry });
  return 0;
}

async function list(args: PackArgs, runtime: Runtime, out: Output): Promise<number> {
  const store = await storeFor(args, runtime);
  const entries = await store.list();
  if (entries.length === 0) out.line(`No packs installed in ${store.packsDir}`);
  for (const entry of entries) {
    out.line(
      `${packId(entry)}  plugins: ${entry.plugins.join(", ")}  ${entry.integrity}${
        entry.signed_by ? `  signed by ${entry.signed_by}` : ""
      }  from ${entry.source}`,
    );
  }
  out.result({ ok: true, packs: entries });
  return 0;
}

async function remove(args: PackArgs, runtime: Runtime, out: Output): Promise<number> {
  const store = await storeFor(args, runtime);
  const removed = await store.remove(args.target!);
  for (const entry of removed) out.line(`Removed ${packId(entry)}`);
  out.result({ ok: true, removed: removed.map((entry) => packId(entry)) });
  return 0;
}

async function keygen(args: PackArgs, runtime: Runtime, out: Output): Promise<number> {
  const file = args.target!;
  const { privatePem, publicKey } = await generateKeyPair();
  if (!(await runtime.createPrivateFile(file, privatePem))) {
    throw new UsageError(`${file} exists: keygen never overwrites a key`);
  }
  await runtime.packFiles.writeFile(`${file}.pub`, new TextEncoder().encode(publicKey + "\n"));
  out.line(`Wrote the private key ${file} (mode 0600) and the public key ${file}.pub:`);
  out.line(publicKey);
  out.line(`Sign: tapline pack build --sign ${file}; trust: trusted_keys: ["${publicKey}"]`);
  out.result({ ok: true, private_key: file, public_key: publicKey });
  return 0;
}
