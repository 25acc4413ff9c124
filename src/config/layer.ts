/**
 * One configuration source (YAML file, environment or flags) after parsing,
 * with where each value came from so later checks can point at it.
 */
import type { AdminToken } from "../admin/tokens.ts";
import { ConfigError, type ConfigLocation, UsageError } from "../shared/errors.ts";
import type { GlobalKey, Globals } from "./options.ts";
import type { ProxyKey } from "./proxy.ts";
import type { PluginDeclaration } from "../plugins/types.ts";
import type { ProxyConfig } from "./types.ts";

/** Where a value was written. */
export interface Origin {
  /** Prefix for messages: `--proxy #2`, `TAPLINE_MAX_BODY_SIZE`, `app.yaml:7:5: proxies[1]`. */
  label: string;
  /** Command-line problems are usage errors (exit 64); the rest config errors (exit 78). */
  kind: "usage" | "config";
  location?: ConfigLocation;
}

export interface ProxyEntry {
  proxy: ProxyConfig;
  origin: Origin;
  /** Where one of its fields was written (falls back to the proxy's origin). */
  fieldOrigin(key: ProxyKey): Origin;
}

/** One YAML `plugins:` entry with where its `routes` items were written. */
export interface PluginEntry {
  plugin: PluginDeclaration;
  /** Where `routes[index]` was written, so an unknown proxy name points at it. */
  routeOrigin(index: number): Origin;
}

export interface ConfigLayer {
  globals: Partial<Globals>;
  origins: Partial<Record<GlobalKey, Origin>>;
  proxies: ProxyEntry[];
  /** Only the YAML layer sets plugins; a layer that sets them replaces the whole list. */
  plugins?: PluginEntry[];
  /** Admin tokens written in this source (YAML `admin.tokens`, `TAPLINE_ADMIN_TOKEN`). */
  adminTokens?: AdminToken[];
  /** YAML `admin.allowed_hosts`. */
  adminAllowedHosts?: string[];
  /** YAML `trusted_keys`. */
  trustedKeys?: string[];
  /** `--grpc-descriptors` (repeatable), YAML `grpc.descriptors`. */
  grpcDescriptors?: string[];
}

/** A layer with nothing set. */
export function emptyLayer(): ConfigLayer {
  return { globals: {}, origins: {}, proxies: [] };
}

/** Throw the error class matching the origin, with `<label>: <message>`. */
export function failAt(origin: Origin, message: string): never {
  const text = `${origin.label}: ${message}`;
  if (origin.kind === "usage") throw new UsageError(text);
  throw new ConfigError(text, origin.location ?? {});
}

/** One global value as written. */
export interface GlobalSetting<K extends GlobalKey> {
  key: K;
  value: Globals[K];
  origin: Origin;
}

/** Store a global value with its origin (a later call wins, like a repeated Go flag). */
export function setGlobal<K extends GlobalKey>(layer: ConfigLayer, { key, value, origin }: GlobalSetting<K>): void {
  layer.globals[key] = value;
  layer.origins[key] = origin;
}

/**
 * Add a proxy to a layer; a second proxy with the same name in one layer is an
 * error (across layers, the later one replaces it instead).
 */
export function addProxy(layer: ConfigLayer, entry: ProxyEntry): void {
  const previous = layer.proxies.find((p) => p.proxy.name === entry.proxy.name);
  if (previous) {
    failAt(
      entry.fieldOrigin("name"),
      `duplicate proxy name "${entry.proxy.name}" (also used by ${previous.origin.label})`,
    );
  }
  layer.proxies.push(entry);
}
