/**
 * Object keys of archived files, from a template. The default lays files out
 * as Hive-style partitions that query engines prune (DuckDB, Athena/Trino,
 * ClickHouse, Spark) and that never collide between instances:
 * `<prefix>route=api/date=2026-12-03/hour=10/<instance>-<rotation time>-<seq>.jsonl.gz`.
 * http-tap-proxy's flat layout stays available as `{prefix}{file}`.
 */

/** The default key template. */
export const DEFAULT_KEY_TEMPLATE = "{prefix}route={route}/date={date}/hour={hour}/{instance}-{timestamp}-{seq}.{ext}";

/** http-tap-proxy's layout: the prefix and the rotated file's name. */
export const FLAT_KEY_TEMPLATE = "{prefix}{file}";

/** What a template can use. */
export interface KeyFields {
  /** The key prefix, with a trailing `/` when not empty. */
  prefix: string;
  /** The capture file's name without extension: the route in directory mode (`api` for `logs/api.jsonl`). */
  route: string;
  /** UTC date of the rotation, `YYYY-MM-DD`. */
  date: string;
  /** UTC hour of the rotation, `HH`. */
  hour: string;
  /** `--instance-id`. */
  instance: string;
  /** The rotation time as in the file name, `20261203T101502.123Z` (with `_N` for a second rotation that millisecond). */
  timestamp: string;
  /** 0, raised when the key is already taken in the bucket. */
  seq: number;
  /** `jsonl`, `jsonl.gz`, `jsonl.zst` or `db`. */
  ext: string;
  /** The uploaded file's name (`api-20261203T101502.123Z.jsonl.gz`). */
  file: string;
}

const PLACEHOLDER = /\{([a-z]+)\}/g;
const NAMES = new Set(["prefix", "route", "date", "hour", "instance", "timestamp", "seq", "ext", "file"]);

/**
 * Why a template cannot be used, or undefined. It may only use the known
 * placeholders, and must make keys unique: `{seq}` (which tapline raises on
 * a conflict) or `{file}` (the flat layout).
 *
 * @example keyTemplateProblem("{prefix}{route}.jsonl") // "must contain {seq} or {file} ..."
 */
export function keyTemplateProblem(template: string): string | undefined {
  if (template.trim() === "") return "must not be empty";
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (!NAMES.has(name!)) return `has an unknown placeholder {${name}}; known: {${[...NAMES].join("}, {")}}`;
  }
  if (/[{}]/.test(template.replace(PLACEHOLDER, ""))) return "has a { or } that is not part of a placeholder";
  if (!template.includes("{seq}") && !template.includes("{file}")) {
    return "must contain {seq} or {file}, so that two files never get the same key";
  }
  if (template.startsWith("/")) return 'must not start with "/" (object keys are relative to the bucket)';
  return undefined;
}

/** The key for `fields`. */
export function renderKey(template: string, fields: KeyFields): string {
  return template.replace(PLACEHOLDER, (_, name: keyof KeyFields) => String(fields[name]));
}

/** `20261203T101502.123Z` or `..._1`, with the rest of a rotated file's name. */
const ROTATED = /^(.+)-((\d{4})(\d{2})(\d{2})T(\d{2})\d{4}\.\d{3}Z(?:_\d+)?)\.([^.]+)$/;

/**
 * The fields of a rotated file's name (`api-20261203T101502.123Z.jsonl`),
 * with the extension the upload will carry (`jsonl.gz` when compressed), or
 * undefined for a name that is not a rotated file's.
 */
export function keyFieldsOf(
  fileName: string,
  context: { prefix: string; instance: string; seq: number; suffix?: string },
): KeyFields | undefined {
  const match = ROTATED.exec(fileName);
  if (match === null) return undefined;
  const [, route, timestamp, year, month, day, hour, ext] = match;
  const suffix = context.suffix ?? "";
  const prefix = context.prefix === "" || context.prefix.endsWith("/") ? context.prefix : `${context.prefix}/`;
  return {
    prefix,
    route: route!,
    date: `${year}-${month}-${day}`,
    hour: hour!,
    instance: context.instance,
    timestamp: timestamp!,
    seq: context.seq,
    ext: `${ext}${suffix}`,
    file: `${fileName}${suffix}`,
  };
}
