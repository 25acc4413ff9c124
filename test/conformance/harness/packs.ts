/**
 * Helpers of the pack conformance suite: a pack's files and their SHA-256 as
 * the lock records them, pack archives read and written independently of
 * tapline (`.tgz` in npm's layout, everything under `package/`), and
 * `npm pack` of a local folder, which needs no network.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { createTar, parseTar } from "nanotar";

/** Lower-case hex SHA-256, as the lock writes it. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** `sha256-<base64>` of an archive, as `pack build` prints it. */
export function integrityOf(bytes: Uint8Array): string {
  return `sha256-${createHash("sha256").update(bytes).digest("base64")}`;
}

/** Every file under `root`, by path relative to it with `/`. */
export function folderFiles(root: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (dir: string, prefix: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name), `${prefix}${entry.name}/`);
      else if (entry.isFile()) files.set(`${prefix}${entry.name}`, readFileSync(join(dir, entry.name)));
    }
  };
  walk(root, "");
  return files;
}

/** Path to SHA-256 of every file, sorted by path: what the lock's `files` should hold. */
export function fileHashes(files: Map<string, Uint8Array>): Record<string, string> {
  return Object.fromEntries([...files.keys()].sort().map((path) => [path, sha256Hex(files.get(path)!)]));
}

/** The files of a `.tgz`, relative to its `package/` folder. */
export function readTgz(bytes: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const entry of parseTar(gunzipSync(bytes))) {
    if (entry.type !== "file") continue;
    files.set(entry.name.replace(/^package\//, ""), entry.data ?? new Uint8Array(0));
  }
  return files;
}

/** A `.tgz` of `files` under `package/`, as npm and `pack build` lay them out. */
export function writeTgz(file: string, files: Map<string, Uint8Array>): Buffer {
  const tar = createTar(
    [...files.keys()].sort().map((name) => ({
      name: `package/${name}`,
      data: files.get(name)!,
      attrs: { mode: "644" },
    })),
  );
  const bytes = gzipSync(tar);
  writeFileSync(file, bytes);
  return bytes;
}

/** Environment for npm that keeps it off the network and out of the home folder. */
export function npmEnv(cache: string): NodeJS.ProcessEnv {
  return {
    npm_config_offline: "true",
    npm_config_cache: cache,
    npm_config_update_notifier: "false",
    npm_config_audit: "false",
    npm_config_fund: "false",
  };
}

/**
 * `npm pack FOLDER` into `dest`; without an npm CLI, the same layout written
 * here (`byNpm` says which).
 */
export function npmPack(folder: string, dest: string, cache: string): { file: string; byNpm: boolean } {
  const result = spawnSync("npm", ["pack", folder, "--json", "--pack-destination", dest], {
    encoding: "utf8",
    env: { ...process.env, ...npmEnv(cache) },
    timeout: 60_000,
  });
  if (result.error && (result.error as NodeJS.ErrnoException).code === "ENOENT") {
    const pkg = JSON.parse(readFileSync(join(folder, "package.json"), "utf8")) as { name: string; version: string };
    const file = join(dest, `${pkg.name}-${pkg.version}.tgz`);
    writeTgz(file, folderFiles(folder));
    return { file, byNpm: false };
  }
  if (result.status !== 0) throw new Error(`npm pack ${folder}: exit ${result.status}\n${result.stderr}`);
  const [packed] = JSON.parse(result.stdout) as { filename: string }[];
  return { file: join(dest, packed!.filename), byNpm: true };
}
