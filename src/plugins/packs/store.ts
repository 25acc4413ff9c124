/**
 * Installed packs: `<data dir>/packs/<name>@<version>/` and the lock,
 * `<data dir>/tapline.lock`, which records each pack's source, the integrity
 * of its archive and the SHA-256 of every file. Installing runs every check
 * first and writes the files before the lock names them; loading a pack
 * plugin reads its files from disk, compares each with the lock, and runs
 * the plugin's fixtures again, so a file changed after install is refused
 * by name. Nothing here touches the network: start-up uses what is installed.
 */
import type { Logger } from "../../shared/logger.ts";
import { buildArchive } from "./archive.ts";
import { integrityOf, sha256Hex } from "./integrity.ts";
import { type CheckedPack, checkPack, type PackCheckOptions, PackError } from "./pack-check.ts";
import { type PackContents, type PackFiles, readPackFolder } from "./pack-files.ts";
import { PACK_MANIFEST, packId, type PackManifest, parsePackManifest } from "./pack-manifest.ts";
import { formatPackRef, type PackRef } from "./pack-ref.ts";
import type { PackSource } from "../types.ts";
import { packSource } from "./fixtures.ts";

/** The lock file's name in the data dir. */
export const LOCK_FILE = "tapline.lock";
/** The folder of installed packs in the data dir. */
export const PACKS_DIR = "packs";

/** What the lock records of one installed pack. */
export interface LockEntry {
  name: string;
  version: string;
  /** Where it was installed from, as given (a path, a URL, an npm spec, "upload"). */
  source: string;
  /** `sha256-<base64>` of the archive (for a folder, of the archive `pack build` makes of it). */
  integrity: string;
  /** The trusted key that signed it. */
  signed_by?: string;
  installed_at: string;
  /** Every file of the pack: path to lower-case hex SHA-256. */
  files: Record<string, string>;
  /** The plugins it holds, for listings. */
  plugins: string[];
}

interface LockFile {
  lockfile_version: 1;
  packs: Record<string, LockEntry>;
}

/** Options of a store. */
export interface PackStoreOptions {
  files: PackFiles;
  dataDir: string;
  taplineVersion: string;
  logger: Logger;
  trustedKeys?: readonly string[];
  /** Current time, for `installed_at`. */
  now?: () => Date;
}

/** The installed packs of one data dir. */
export class PackStore {
  readonly #options: PackStoreOptions;
  readonly lockPath: string;
  readonly packsDir: string;

  constructor(options: PackStoreOptions) {
    this.#options = options;
    this.lockPath = `${options.dataDir}/${LOCK_FILE}`;
    this.packsDir = `${options.dataDir}/${PACKS_DIR}`;
  }

  /** The folder of an installed pack. */
  dirOf(entry: { name: string; version: string }): string {
    return `${this.packsDir}/${packId(entry)}`;
  }

  /** Every installed pack, by name then version. */
  async list(): Promise<LockEntry[]> {
    const lock = await this.#readLock();
    return Object.values(lock.packs).sort((a, b) => packId(a).localeCompare(packId(b)));
  }

  /**
   * Checks and installs a pack. An identical pack already installed is left
   * as it is; a different one under the same name and version is refused
   * (versions are immutable: remove it first, or publish a new version).
   *
   * @throws PackError (or ConfigError for an unparsable manifest or fixture).
   */
  async install(
    contents: PackContents,
    origin: { source: string; integrity?: string; label: string },
    progress?: Pick<PackCheckOptions, "onFixture">,
  ): Promise<{ entry: LockEntry; checked: CheckedPack; unchanged: boolean }> {
    const checked = await checkPack(contents, origin.label, { ...this.#checkOptions(), ...progress });
    const { manifest } = checked;
    const id = packId(manifest);
    const files: Record<string, string> = {};
    for (const path of [...checked.contents.keys()].sort()) files[path] = await sha256Hex(checked.contents.get(path)!);
    const lock = await this.#readLock();
    const existing = lock.packs[id];
    if (existing) {
      if (JSON.stringify(existing.files) === JSON.stringify(files)) {
        return { entry: existing, checked, unchanged: true };
      }
      throw new PackError(
        `${id} is already installed with different files: remove it first (tapline pack remove ${id}) ` +
          "or install a new version",
        "pack_conflict",
      );
    }
    const entry: LockEntry = {
      name: manifest.name,
      version: manifest.version,
      source: origin.source,
      integrity: origin.integrity ?? await integrityOf(await buildArchive(checked.contents)),
      ...(checked.signedBy ? { signed_by: checked.signedBy } : {}),
      installed_at: (this.#options.now?.() ?? new Date()).toISOString(),
      files,
      plugins: manifest.plugins.map((plugin) => plugin.name),
    };
    // Files first, in a temporary folder renamed into place: a crash leaves
    // no half-written pack that the lock names.
    const { files: fs } = this.#options;
    const dir = this.dirOf(manifest);
    const temp = `${this.packsDir}/.installing-${crypto.randomUUID()}`;
    try {
      for (const [path, bytes] of checked.contents) await fs.writeFile(`${temp}/${path}`, bytes);
      await fs.removeTree(dir);
      await fs.rename(temp, dir);
    } catch (error) {
      await fs.removeTree(temp);
      throw new PackError(`Cannot install ${id} into ${dir}: ${(error as Error).message}`, "pack_io");
    }
    lock.packs[id] = entry;
    await this.#writeLock(lock);
    this.#options.logger.info("pack installed", { pack: id, source: origin.source, plugins: entry.plugins });
    return { entry, checked, unchanged: false };
  }

  /**
   * Removes installed packs: `name@version`, or `name` when exactly one
   * version is installed (or every version with `all`).
   *
   * @throws PackError when nothing matches or the name is ambiguous.
   */
  async remove(spec: string, options: { all?: boolean } = {}): Promise<LockEntry[]> {
    const lock = await this.#readLock();
    const matches = matching(Object.values(lock.packs), spec);
    if (matches.length === 0) throw new PackError(`No installed pack matches ${spec}`, "pack_not_found");
    if (matches.length > 1 && !options.all && !spec.slice(1).includes("@")) {
      throw new PackError(
        `${spec} has ${matches.length} installed versions (${matches.map((m) => m.version).join(", ")}): ` +
          "name one as name@version",
        "pack_ambiguous",
      );
    }
    for (const entry of matches) delete lock.packs[packId(entry)];
    await this.#writeLock(lock);
    for (const entry of matches) await this.#options.files.removeTree(this.dirOf(entry));
    return matches;
  }

  /**
   * The installed pack `ref` names, read from disk and checked: every file
   * against the lock (a changed, missing or extra file is refused by name)
   * and the plugin's fixtures in the sandbox.
   *
   * @throws PackError naming the pack and what is wrong.
   */
  async resolve(ref: PackRef): Promise<PackSource> {
    const entry = await this.find(ref);
    const contents = await this.verifiedContents(entry);
    const checked = await checkPack(contents, this.dirOf(entry), { ...this.#checkOptions(), plugin: ref.plugin });
    const plugin = checked.manifest.plugins.find((p) => p.name === ref.plugin);
    if (!plugin) {
      throw new PackError(
        `${packId(entry)} has no plugin "${ref.plugin}" (it has ${entry.plugins.join(", ")})`,
        "pack_not_found",
      );
    }
    return packSource(checked.manifest, checked.contents, plugin);
  }

  /** The manifest of an installed pack, as on disk (not checked against the lock: see `resolve`). */
  async manifestOf(entry: LockEntry): Promise<PackManifest> {
    const file = `${this.dirOf(entry)}/${PACK_MANIFEST}`;
    return parsePackManifest(new TextDecoder().decode(await this.#options.files.readFile(file)), file);
  }

  /** The lock entry `ref` names: its exact version, or the only one installed. */
  async find(ref: Pick<PackRef, "pack" | "version">): Promise<LockEntry> {
    const installed = (await this.list()).filter((entry) => entry.name === ref.pack);
    const label = formatPackRef({ plugin: "", ...ref }).replace("/@", "@").replace(/\/$/, "");
    if (installed.length === 0) {
      throw new PackError(`pack ${ref.pack} is not installed (tapline pack install SOURCE)`, "pack_not_found");
    }
    if (ref.version !== undefined) {
      const entry = installed.find((e) => e.version === ref.version);
      if (!entry) {
        throw new PackError(
          `${label}: version ${ref.version} is not installed (installed: ${
            installed.map((e) => e.version).join(", ")
          })`,
          "pack_not_found",
        );
      }
      return entry;
    }
    if (installed.length > 1) {
      throw new PackError(
        `${ref.pack} has ${installed.length} installed versions (${installed.map((e) => e.version).join(", ")}): ` +
          "say which with @version",
        "pack_ambiguous",
      );
    }
    return installed[0]!;
  }

  /**
   * The files of an installed pack, each checked against the lock.
   *
   * @throws PackError naming the first file that differs, is missing or was added.
   */
  async verifiedContents(entry: LockEntry): Promise<PackContents> {
    const dir = this.dirOf(entry);
    let contents: PackContents;
    try {
      contents = await readPackFolder(this.#options.files, dir);
    } catch (error) {
      throw new PackError(
        `Cannot read installed pack ${packId(entry)} in ${dir}: ${(error as Error).message}`,
        "pack_io",
      );
    }
    for (const [path, expected] of Object.entries(entry.files)) {
      const bytes = contents.get(path);
      if (bytes === undefined) {
        throw new PackError(`${packId(entry)}: ${dir}/${path} is missing (it is in ${this.lockPath})`, "pack_tampered");
      }
      if (await sha256Hex(bytes) !== expected) {
        throw new PackError(
          `${packId(entry)}: ${dir}/${path} changed after install (its SHA-256 differs from ${this.lockPath})`,
          "pack_tampered",
        );
      }
    }
    for (const path of contents.keys()) {
      if (!(path in entry.files)) {
        throw new PackError(`${packId(entry)}: ${dir}/${path} was added after install`, "pack_tampered");
      }
    }
    return contents;
  }

  #checkOptions(): PackCheckOptions {
    const { taplineVersion, logger, trustedKeys } = this.#options;
    return { taplineVersion, logger, ...(trustedKeys ? { trustedKeys } : {}) };
  }

  async #readLock(): Promise<LockFile> {
    const { files } = this.#options;
    if ((await files.kind(this.lockPath)) === undefined) return { lockfile_version: 1, packs: {} };
    let parsed: LockFile;
    try {
      parsed = JSON.parse(new TextDecoder().decode(await files.readFile(this.lockPath))) as LockFile;
    } catch (error) {
      throw new PackError(`Cannot read ${this.lockPath}: ${(error as Error).message}`, "pack_lock");
    }
    if (parsed?.lockfile_version !== 1 || typeof parsed.packs !== "object" || parsed.packs === null) {
      throw new PackError(`Cannot read ${this.lockPath}: not a tapline lock file (lockfile_version 1)`, "pack_lock");
    }
    return parsed;
  }

  async #writeLock(lock: LockFile): Promise<void> {
    const sorted: LockFile = {
      lockfile_version: 1,
      packs: Object.fromEntries(Object.keys(lock.packs).sort().map((id) => [id, lock.packs[id]!])),
    };
    await this.#options.files.writeFileAtomic(
      this.lockPath,
      new TextEncoder().encode(JSON.stringify(sorted, null, 2) + "\n"),
    );
  }
}

/** Lock entries `spec` (`name` or `name@version`) names. */
function matching(entries: LockEntry[], spec: string): LockEntry[] {
  const at = spec.lastIndexOf("@");
  if (at > 0) {
    const name = spec.slice(0, at);
    const version = spec.slice(at + 1);
    return entries.filter((e) => e.name === name && e.version === version);
  }
  return entries.filter((e) => e.name === spec);
}
