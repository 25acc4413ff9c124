/**
 * Names of rotated files: `api.jsonl` rotated at 2026-11-21T10:15:02.123Z
 * becomes `api-20261121T101502.123Z.jsonl`. The stamp is fixed width UTC,
 * so names of one live file sort lexically in time order; it has no `:` (not
 * allowed on Windows, awkward on macOS), and the extension stays last so
 * tools still recognise `.jsonl` and `.db`. A second rotation in the same
 * millisecond gets a counter (`_1`, `_2`, ...) instead of overwriting; `_`
 * sorts after `.`, so `api-X.jsonl` still lists before `api-X_1.jsonl`.
 */

/** A live file's path split into the directory prefix (with its trailing separator), stem and extension. */
export interface PathParts {
  /** Everything up to and including the last `/` or `\`; empty for a bare name. */
  dir: string;
  /** The file name without its extension, e.g. `api`. */
  stem: string;
  /** The last extension with its dot, e.g. `.jsonl`; empty when there is none. */
  ext: string;
}

/** Splits a path; a leading dot (`.hidden`) is part of the stem, not an extension. */
export function splitPath(path: string): PathParts {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const dir = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return { dir, stem: name, ext: "" };
  return { dir, stem: name.slice(0, dot), ext: name.slice(dot) };
}

/** The directory to list for the files next to `path` (`.` for a bare name). */
export function directoryOf(path: string): string {
  const { dir } = splitPath(path);
  return dir === "" ? "." : dir;
}

/** The last component of a path. */
export function baseName(path: string): string {
  const { stem, ext } = splitPath(path);
  return stem + ext;
}

/** `2026-11-21T10:15:02.123Z` as `20261121T101502.123Z`; throws a RangeError for an invalid date. */
export function rotationStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, "");
}

/**
 * The path a live file is renamed to when it rotates at `at`. When that path
 * is `taken` (a set of paths, or a predicate), a counter is added until a
 * free name is found, so a rotation never overwrites an earlier one.
 *
 * @example
 * rotatedPath("logs/api.jsonl", new Date("2026-11-21T10:15:02.123Z"))
 * // "logs/api-20261121T101502.123Z.jsonl"
 */
export function rotatedPath(
  path: string,
  at: Date,
  taken: ((path: string) => boolean) | ReadonlySet<string> = () => false,
): string {
  const isTaken = typeof taken === "function" ? taken : (candidate: string) => taken.has(candidate);
  const { dir, stem, ext } = splitPath(path);
  const prefix = `${dir}${stem}-${rotationStamp(at)}`;
  let candidate = prefix + ext;
  for (let counter = 1; isTaken(candidate); counter++) candidate = `${prefix}_${counter}${ext}`;
  return candidate;
}

/** Where a rotated name sits in time: its stamp, then its same-millisecond counter (0 for none). */
export interface RotatedKey {
  stamp: string;
  counter: number;
}

const STAMP = "\\d{8}T\\d{6}\\.\\d{3}Z";

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The stamp and counter of `name` when it is a rotated file of the live file named `base`, else undefined. */
export function parseRotatedName(base: string, name: string): RotatedKey | undefined {
  const { stem, ext } = splitPath(base);
  // Anchored on the exact stem and extension, so route `api` never claims `api-v2.jsonl` or its rotations.
  const match = new RegExp(`^${escapeRegExp(stem)}-(${STAMP})(?:_([1-9]\\d*))?${escapeRegExp(ext)}$`).exec(name);
  if (match === null) return undefined;
  return { stamp: match[1]!, counter: match[2] === undefined ? 0 : Number(match[2]) };
}

/** Whether `name` (a file name, not a path) is a rotated file of the live file named `base`. */
export function isRotatedName(base: string, name: string): boolean {
  return parseRotatedName(base, name) !== undefined;
}

/** Orders rotated keys oldest first; the counter is compared as a number so `_10` follows `_9`. */
export function compareRotated(a: RotatedKey, b: RotatedKey): number {
  if (a.stamp !== b.stamp) return a.stamp < b.stamp ? -1 : 1;
  return a.counter - b.counter;
}
