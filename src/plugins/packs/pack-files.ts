/**
 * What packs need from the file system, declared here and implemented under
 * src/runtime/ (node:fs works on all three runtimes), so this folder stays
 * free of runtime imports and its tests can hand it a real directory.
 */

/** An entry of a directory. */
export interface DirEntry {
  name: string;
  directory: boolean;
}

/** File operations of the pack store and the pack commands. */
export interface PackFiles {
  readFile(path: string): Promise<Uint8Array>;
  /** Writes `bytes` to `path`, creating its parent directories. */
  writeFile(path: string, bytes: Uint8Array): Promise<void>;
  /** Replaces `path` atomically (temporary file, fsync, rename). */
  writeFileAtomic(path: string, bytes: Uint8Array): Promise<void>;
  /** The entries of `dir`; a missing directory has none. Symbolic links are not followed and not listed. */
  list(dir: string): Promise<DirEntry[]>;
  /** Whether `path` is a file, a directory, or nothing (undefined). */
  kind(path: string): Promise<"file" | "directory" | undefined>;
  /** Removes a file or a directory and everything in it; a missing one is not an error. */
  removeTree(path: string): Promise<void>;
  /** Renames a file or directory, creating the parent of `to`. */
  rename(from: string, to: string): Promise<void>;
}

/** A pack's files in memory: path relative to the pack root (with `/`) to bytes. */
export type PackContents = Map<string, Uint8Array>;

/** Files one pack may hold at most, and their total size: packs are scripts and fixtures. */
export const PACK_LIMITS = { files: 2000, bytes: 32 * 1024 * 1024 } as const;

/**
 * Checks a path inside a pack: relative, `/`-separated, no `..`, `.` or
 * empty segments, no NUL or backslash. Returns the reason it is refused.
 */
export function unsafePackPath(path: string): string | undefined {
  if (path.length === 0 || path.length > 512) return "empty or longer than 512 characters";
  if (path.startsWith("/")) return "absolute";
  if (/[\0\\]/.test(path)) return "holds a NUL or a backslash";
  if (path.split("/").some((part) => part === "" || part === "." || part === "..")) {
    return "holds an empty, . or .. segment";
  }
  return undefined;
}

/**
 * Reads a pack folder into memory (every file under it, symbolic links
 * skipped, `node_modules` and `.git` left out).
 *
 * @throws Error when it holds more than PACK_LIMITS.
 */
export async function readPackFolder(files: PackFiles, root: string): Promise<PackContents> {
  const contents: PackContents = new Map();
  let bytes = 0;
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = (await files.list(dir)).sort((a, b) => a.name < b.name ? -1 : 1);
    for (const entry of entries) {
      if (entry.name === "node_modules" || entry.name === ".git") continue;
      const path = `${prefix}${entry.name}`;
      if (entry.directory) {
        await walk(`${dir}/${entry.name}`, `${path}/`);
        continue;
      }
      const data = await files.readFile(`${dir}/${entry.name}`);
      bytes += data.byteLength;
      if (contents.size >= PACK_LIMITS.files || bytes > PACK_LIMITS.bytes) {
        throw new Error(
          `Cannot read pack ${root}: more than ${PACK_LIMITS.files} files or ${PACK_LIMITS.bytes >> 20} MiB`,
        );
      }
      contents.set(path, data);
    }
  };
  await walk(root.replace(/\/+$/, ""), "");
  return contents;
}
