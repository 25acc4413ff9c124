/**
 * A plugin list on its own, outside the config file: the body of a reload
 * through the admin API and the persisted `plugins.runtime.yaml`. It is read
 * with the config file's parser and checks (so errors carry line, column and
 * field the same way), and written back in the same YAML shape.
 */
import { stringify } from "yaml";
import { ConfigError } from "../shared/errors.ts";
import type { PluginDeclaration, PluginLimits } from "../plugins/types.ts";
import { failAt } from "./layer.ts";
import { LIMIT_KEYS } from "../plugins/types.ts";
import { parseYamlConfig } from "./yaml.ts";

/** Where a plugin document came from, and what it may refer to. */
export interface PluginDocumentSource {
  /** A file name for messages; relative plugin paths resolve against its folder. */
  file: string;
  /** The proxies a plugin's `routes` may name. */
  proxyNames: readonly string[];
  /** The document is a whole config file: its other keys are allowed (and ignored), and no list means none. */
  wholeConfig?: boolean;
}

/**
 * Parses a document holding a `plugins:` list (YAML, or JSON, which is YAML).
 *
 * @example
 * parsePluginDocument("plugins:\n  - id: scrub\n    use: redaction\n", { file: "request", proxyNames: ["api"] });
 * @throws ConfigError naming file, line, column and field.
 */
export function parsePluginDocument(text: string, source: PluginDocumentSource): PluginDeclaration[] {
  const layer = parseYamlConfig(text, source.file);
  if (source.wholeConfig && layer.plugins === undefined) return [];
  const other = Object.keys(layer.globals)[0] ?? (layer.proxies.length > 0 ? "proxies" : undefined);
  if (other !== undefined && !source.wholeConfig) {
    throw new ConfigError(`${source.file}: only a plugins list is accepted here, not "${other}"`, {
      file: source.file,
      field: other,
    });
  }
  if (layer.plugins === undefined) {
    throw new ConfigError(`${source.file}: a "plugins:" list is missing`, { file: source.file, field: "plugins" });
  }
  for (const { plugin, routeOrigin } of layer.plugins) {
    plugin.routes?.forEach((route, index) => {
      if (!source.proxyNames.includes(route)) {
        failAt(routeOrigin(index), `unknown proxy "${route}"; the proxies are ${source.proxyNames.join(", ")}`);
      }
    });
  }
  return layer.plugins.map((entry) => entry.plugin);
}

/** A declaration as a YAML `plugins:` entry; a plugin file is written as its resolved path. */
export function pluginEntryOf(declaration: PluginDeclaration): Record<string, unknown> {
  const entry: Record<string, unknown> = { id: declaration.id, use: declaration.file ?? declaration.use };
  if (Object.keys(declaration.config).length > 0) entry["config"] = declaration.config;
  if (declaration.routes !== undefined) entry["routes"] = [...declaration.routes];
  if (declaration.fail !== undefined) entry["fail"] = declaration.fail;
  const limits: Record<string, number> = {};
  for (const [key, field] of Object.entries(LIMIT_KEYS) as [string, keyof PluginLimits][]) {
    limits[key] = declaration.limits[field];
  }
  entry["limits"] = limits;
  return entry;
}

/** A plugin list as the text of a `plugins:` document. */
export function pluginDocument(entries: readonly Record<string, unknown>[]): string {
  return stringify({ plugins: entries });
}
