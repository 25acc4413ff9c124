/**
 * `tapline-pack.yaml`: what a pack is (name, version, the tapline versions it
 * supports), its plugins with their manifest fields, and where its fixtures
 * are. Checked against schemas/pack.schema.json, then for what a schema
 * cannot say (a valid semver version and range, unique plugin names); every
 * error names the file, line and field.
 */
import { Ajv, type ErrorObject } from "ajv";
import semver from "semver";
import packSchema from "../../../schemas/pack.schema.json" with { type: "json" };
import { type LocatedYaml, parseLocatedYaml, type YamlPath } from "../../shared/located-yaml.ts";
import { LIMIT_KEYS, type PackPlugin, type PluginLimits } from "../types.ts";

export type { PackPlugin };

/** The manifest file of a pack, at its root. */
export const PACK_MANIFEST = "tapline-pack.yaml";

/** A parsed, checked `tapline-pack.yaml`. */
export interface PackManifest {
  name: string;
  version: string;
  description: string;
  license: string;
  /** Semver range of supported tapline versions. */
  tapline: string;
  plugins: PackPlugin[];
  /** Fixture files or folders, relative to the pack root. */
  fixtures: string[];
}

const checkPack = new Ajv({ allErrors: false, strict: false }).compile(packSchema);

/**
 * Parses and checks a pack manifest. `file` names it in errors.
 *
 * @throws ConfigError `tapline-pack.yaml:3:10: version: ...`
 * @example
 * const pack = parsePackManifest(await readFile("pii/tapline-pack.yaml", "utf8"), "pii/tapline-pack.yaml");
 * pack.plugins.map((p) => `${pack.name}/${p.name}@${pack.version}`);
 */
export function parsePackManifest(text: string, file: string): PackManifest {
  const yaml = parseLocatedYaml(text, file);
  const data = yaml.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw yaml.error([], "a pack manifest is a mapping with name, version, description, license, tapline and plugins");
  }
  if (!checkPack(data)) throw schemaError(yaml, checkPack.errors![0]!);
  const raw = data as Record<string, unknown> & { plugins: Record<string, unknown>[] };
  const version = String(raw.version);
  if (semver.valid(version) !== version) {
    throw yaml.error(["version"], `"${version}" is not a semantic version such as 1.2.0`);
  }
  if (semver.validRange(String(raw.tapline)) === null) {
    throw yaml.error(["tapline"], `"${raw.tapline}" is not a semver range such as ">=0.1.0 <1"`);
  }
  const seen = new Set<string>();
  const plugins = raw.plugins.map((entry, i): PackPlugin => {
    const name = String(entry.name);
    if (seen.has(name)) throw yaml.error(["plugins", i, "name"], `plugin "${name}" is listed twice`);
    seen.add(name);
    const limits: Partial<PluginLimits> = {};
    for (const [key, value] of Object.entries((entry.limits ?? {}) as Record<string, number>)) {
      limits[LIMIT_KEYS[key as keyof typeof LIMIT_KEYS]] = value;
    }
    const { limits: _, ...rest } = entry;
    return { ...(rest as unknown as PackPlugin), ...(Object.keys(limits).length > 0 ? { limits } : {}) };
  });
  return {
    name: String(raw.name),
    version,
    description: String(raw.description),
    license: String(raw.license),
    tapline: String(raw.tapline),
    plugins,
    fixtures: (raw.fixtures as string[] | undefined) ?? ["fixtures"],
  };
}

/** `name@version`: how a pack is named in the lock, the store and messages. */
export function packId(pack: { name: string; version: string }): string {
  return `${pack.name}@${pack.version}`;
}

/** Whether this tapline version is in the pack's supported range. */
export function supportsTapline(pack: PackManifest, taplineVersion: string): boolean {
  return semver.satisfies(taplineVersion, pack.tapline, { includePrerelease: true });
}

function schemaError(yaml: LocatedYaml, error: ErrorObject): Error {
  const path: (string | number)[] = error.instancePath.split("/").slice(1).map((s) => {
    const text = s.replaceAll("~1", "/").replaceAll("~0", "~");
    return /^\d+$/.test(text) ? Number(text) : text;
  });
  const params = error.params as { additionalProperty?: string; missingProperty?: string; allowedValues?: unknown[] };
  if (params.additionalProperty) {
    return yaml.error([...path, params.additionalProperty], `unknown key "${params.additionalProperty}"`);
  }
  if (params.missingProperty) return yaml.error(path, `"${params.missingProperty}" is required`);
  const last = path[path.length - 1];
  if (error.keyword === "pattern") {
    const hints: Record<string, string> = {
      name: 'a lower-case package name, optionally scoped: "pii", "@acme/pii-redaction"',
      entry: "a .js or .mjs file inside the pack (a relative path without ..)",
    };
    const hint = typeof last === "string" ? hints[last] : undefined;
    return yaml.error(path, hint ? `must be ${hint}` : `must match ${(error.params as { pattern: string }).pattern}`);
  }
  if (error.keyword === "type" && (error.params as { type?: string }).type === "string") {
    const value = path.reduce<unknown>((v, key) => (v as Record<string | number, unknown>)?.[key], yaml.data);
    return yaml.error(path, `must be a string (quote it: "${String(value)}")`);
  }
  if (params.allowedValues) {
    return yaml.error(path, `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(", ")}`);
  }
  return yaml.error(path as YamlPath, error.message ?? "is invalid");
}
