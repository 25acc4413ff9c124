/** Finding the rotated files of one live file, and removing the oldest beyond a count. */
import { baseName, compareRotated, directoryOf, parseRotatedName, type RotatedKey, splitPath } from "./rotated-name.ts";
import type { SinkFileSystem } from "./types.ts";
import { describeError } from "../shared/describe-error.ts";

/** Keep every rotated file. */
export const UNLIMITED_RETENTION = -1;

/**
 * The paths of the rotated files of the live file `path`, oldest first. Only
 * names made by `rotatedPath` for this exact file are listed: the live file,
 * other routes' files and anything else in the directory are left out.
 */
export async function listRotated(fs: Pick<SinkFileSystem, "list">, path: string): Promise<string[]> {
  const base = baseName(path);
  const { dir } = splitPath(path);
  const found: { name: string; key: RotatedKey }[] = [];
  for (const name of await fs.list(directoryOf(path))) {
    const key = parseRotatedName(base, name);
    if (key !== undefined) found.push({ name, key });
  }
  found.sort((a, b) => compareRotated(a.key, b.key));
  return found.map(({ name }) => dir + name);
}

/**
 * Keeps the newest `keep` rotated files of the live file `path` and removes
 * the older ones; a negative `keep` (-1) keeps all. The live file and files
 * that are not its rotations are never touched. Every removal is attempted;
 * if any fails, the error names the files that could not be removed.
 *
 * @returns The paths removed, oldest first.
 */
export async function applyRetention(
  fs: Pick<SinkFileSystem, "list" | "remove">,
  path: string,
  keep: number,
): Promise<string[]> {
  if (!Number.isInteger(keep)) throw new RangeError(`Invalid retention ${keep} for ${path}: must be an integer`);
  if (keep < 0) return [];
  const rotated = await listRotated(fs, path);
  const expired = rotated.slice(0, Math.max(0, rotated.length - keep));
  const removed: string[] = [];
  const failed: { path: string; error: unknown }[] = [];
  for (const old of expired) {
    try {
      await fs.remove(old);
      removed.push(old);
    } catch (error) {
      failed.push({ path: old, error });
    }
  }
  if (failed.length > 0) {
    const first = failed[0]!.error;
    throw new Error(
      `Failed to remove ${failed.length} expired rotated file(s) of ${path}: ${failed.map((f) => f.path).join(", ")} (${
        describeError(first)
      })`,
      { cause: first },
    );
  }
  return removed;
}
