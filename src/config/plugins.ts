/**
 * The YAML `plugins:` list: each entry (already checked against
 * schemas/config.schema.json) becomes a PluginDeclaration with its limits,
 * its resolved file and a way to locate values inside its `config`, so the
 * loader can report manifest-schema errors at the YAML line that is wrong.
 */
import { describeError } from "../shared/describe-error.ts";
import type { ConfigLocation } from "../shared/errors.ts";
import { BUNDLED_PLUGINS } from "../plugins/bundled.ts";
import {
  DEFAULT_PLUGIN_LIMITS,
  type FailMode,
  LIMIT_KEYS,
  type PluginDeclaration,
  type PluginLimits,
} from "../plugins/types.ts";
import { parsePackRef } from "../plugins/packs/pack-ref.ts";
import type { Origin, PluginEntry } from "./layer.ts";
import { parseSize } from "./size.ts";
import { shown } from "../shared/shown-value.ts";

/** Names `use` accepts without a path: the plugins embedded from plugins/. */
export const BUNDLED_NAMES: readonly string[] = Object.keys(BUNDLED_PLUGINS);

/** The smallest `limits.memory` (see PluginLimits.memory). */
export const MIN_PLUGIN_MEMORY = 17 * 1024 * 1024;

type PathSegment = string | number;

/** What the YAML parser lends the plugin parser: positions and its way of failing. */
export interface YamlTools {
  /** The config file as given (used to resolve relative plugin paths). */
  file: string;
  /** Origin of the value (or, with `onKey`, the key) at a path of the document. */
  originOf(path: readonly PathSegment[], onKey?: boolean): Origin;
  /** Throws a ConfigError `<origin.label>: <message>`. */
  fail(origin: Origin, message: string): never;
}

/** One entry as the schema lets it through. */
interface RawPlugin {
  id: string;
  use: string;
  config?: Record<string, unknown>;
  routes?: string[];
  fail?: FailMode;
  limits?: Record<string, number | string>;
}

/**
 * Turn the schema-checked `plugins:` list into declarations. Checks what the
 * schema cannot: unique ids, `use` naming a bundled plugin or a `.js`/`.mjs`
 * file, sizes and limits. Route names are checked after merging (flags can
 * add proxies).
 *
 * @throws ConfigError naming file, line, column and field.
 */
export function parsePlugins(list: readonly Record<string, unknown>[], yaml: YamlTools): PluginEntry[] {
  const seen = new Map<string, number>();
  return list.map((value, index) => {
    const raw = value as unknown as RawPlugin;
    const base: PathSegment[] = ["plugins", index];
    const at = (...path: PathSegment[]) => yaml.originOf([...base, ...path]);

    const previous = seen.get(raw.id);
    if (previous !== undefined) {
      const other = yaml.originOf(["plugins", previous, "id"]).location;
      yaml.fail(
        at("id"),
        `duplicate plugin id "${raw.id}" (also used by plugins[${previous}] at line ${other?.line ?? "?"})`,
      );
    }
    seen.set(raw.id, index);

    const plugin: PluginDeclaration = {
      id: raw.id,
      use: raw.use,
      config: raw.config ?? {},
      limits: parseLimits(raw.limits ?? {}, (key, message) => yaml.fail(at("limits", key), message)),
      location: yaml.originOf(base).location ?? { file: yaml.file },
      locateConfig: (path) => locationOf(yaml.originOf([...base, "config", ...path])),
    };
    if (!BUNDLED_NAMES.includes(raw.use)) {
      const pack = parsePackRef(raw.use);
      if (pack) plugin.packRef = pack;
      else if (/\.m?js$/.test(raw.use)) plugin.file = resolveAgainst(yaml.file, raw.use);
      else {
        yaml.fail(
          at("use"),
          `unknown plugin "${raw.use}": use one of ${BUNDLED_NAMES.join(", ")}, a path to a .js or .mjs file, ` +
            "or a plugin of an installed pack (pack/plugin@version)",
        );
      }
    }
    if (raw.routes !== undefined) plugin.routes = [...raw.routes];
    if (raw.fail !== undefined) plugin.fail = raw.fail;
    return { plugin, routeOrigin: (item: number) => at("routes", item) };
  });
}

function locationOf(origin: Origin): ConfigLocation {
  return origin.location ?? {};
}

/** Map `limits:` onto PluginLimits; absent keys keep DEFAULT_PLUGIN_LIMITS. */
function parseLimits(
  raw: Record<string, number | string>,
  fail: (key: string, message: string) => never,
): PluginLimits {
  const limits: PluginLimits = { ...DEFAULT_PLUGIN_LIMITS };
  for (const [key, field] of Object.entries(LIMIT_KEYS)) {
    const value = raw[key];
    if (value === undefined) continue;
    if (field === "memory" || field === "body") {
      const bytes = sizeOf(value, (why) => fail(key, why));
      if (field === "memory" && bytes < MIN_PLUGIN_MEMORY) {
        fail(key, `must be at least 17MB, not ${shown(value)}`);
      }
      limits[field] = bytes;
    } else {
      // The schema checked these are finite numbers (ajv rejects YAML's .inf too).
      limits[field] = value as number;
    }
  }
  return limits;
}

function sizeOf(value: number | string, fail: (why: string) => never): number {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) return fail("must be a whole number of bytes or a size");
    return value;
  }
  try {
    return parseSize(value);
  } catch (error) {
    return fail(lowerFirst(describeError(error)));
  }
}

/**
 * A plugin path as the process should open it: absolute paths as written,
 * relative ones joined to the config file's folder (plain string work, so
 * this stays free of runtime modules).
 *
 * @example resolveAgainst("/etc/tapline/app.yaml", "./plugins/x.js") // "/etc/tapline/plugins/x.js"
 */
export function resolveAgainst(configFile: string, path: string): string {
  if (/^([/\\]|[A-Za-z]:[/\\])/.test(path)) return path;
  const slash = Math.max(configFile.lastIndexOf("/"), configFile.lastIndexOf("\\"));
  const relative = path.replace(/^(\.[/\\])+/, "");
  if (slash < 0) return relative === path ? path : `./${relative}`;
  return `${configFile.slice(0, slash + 1)}${relative}`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
