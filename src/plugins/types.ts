/**
 * The plugin side of the contract: the manifest every plugin exports, the
 * YAML declaration of a plugin instance, and what hooks may return. The hook
 * names and the views hooks are given are the core's (`src/core/hooks.ts`).
 * Values cross as JSON text, so every shape here is plain data. A hook
 * returning `undefined` always means "unchanged".
 */
import type { DirectResponse, HookName } from "../core/hooks.ts";
import type { ConfigLocation } from "../shared/errors.ts";
import type { HeaderPatch } from "../shared/raw-headers.ts";
import type { PackRef } from "./packs/pack-ref.ts";

/** One plugin of a pack, as its tapline-pack.yaml lists it. */
export interface PackPlugin {
  name: string;
  /** The module, relative to the pack root. */
  entry: string;
  description?: string;
  hooks?: HookName[];
  config_schema?: Record<string, unknown>;
  fail?: FailMode;
  reads?: string[];
  /** Default limits; a declaration's own limits win. */
  limits?: Partial<PluginLimits>;
}

/** A plugin of a pack as the loader reads it. */
export interface PackSource {
  /** `name@version` of the pack. */
  packId: string;
  version: string;
  /** The pack manifest's entry for the plugin (its manifest fields). */
  plugin: PackPlugin;
  /** How errors and stacks name the module: `<pack>@<version>/<entry>`. */
  file: string;
  /** The module text; undefined when the pack lacks its entry file. */
  source: string | undefined;
}

/** What a failing plugin does to the traffic or record it was handling. */
export type FailMode = "open" | "closed";

/**
 * `export const manifest = {...}` of a plugin module
 * (schemas/plugin-manifest.schema.json). Bundled plugins always export one; a
 * plugin file without one gets its file name, version 0.0.0, the hooks it
 * exports, no config schema and `fail: "open"` (see loader.ts).
 *
 * @example
 * export const manifest = {
 *   name: "tag-slow", version: "1.0.0", description: "Tags slow exchanges",
 *   hooks: ["onCapture"], config_schema: { type: "object" }, fail: "open",
 * };
 */
export interface PluginManifest {
  name: string;
  version: string;
  description: string;
  /** Exactly the hook functions the module exports. */
  hooks: HookName[];
  /** JSON Schema of the instance `config`; absent means any object. */
  config_schema?: Record<string, unknown>;
  /** Failure mode when the declaration gives none. Default `open`. */
  fail?: FailMode;
  /** The parts of their arguments the hooks read (see reads.ts); default everything. */
  reads?: string[];
}

/**
 * What `setup(config)` may return to narrow what the host does for this
 * instance, so a plugin configured for SSE only does not make the host
 * buffer bodies.
 */
export interface SetupResult {
  /** The hooks this instance uses (a subset of the exported ones). */
  hooks?: HookName[];
  /**
   * Media types whose bodies the body hooks want (`text/*`, `application/json`,
   * `application/*+json`). Default: TEXT_BODY_TYPES.
   */
  body_content_types?: string[];
  /** Narrows the manifest's `reads` for this instance's config (see reads.ts). */
  reads?: string[];
}

/** Body media types the body hooks see by default. */
export const TEXT_BODY_TYPES: readonly string[] = [
  "text/*",
  "application/json",
  "application/*+json",
  "application/xml",
  "application/*+xml",
  "application/x-www-form-urlencoded",
  "application/javascript",
];

/** Per-instance limits (YAML `limits:`); sizes in bytes, times in ms. */
export interface PluginLimits {
  /** Deadline of one mutate hook call. Default 10 ms. */
  hookMs: number;
  /** Deadline of one `onCapture` call. Default 100 ms. */
  captureMs: number;
  /** Deadline of module evaluation plus `setup`. Default 1000 ms. */
  setupMs: number;
  /** Cap of the plugin's WebAssembly memory. Default 64 MiB, at least 17 MiB. */
  memory: number;
  /** Largest body the body hooks are given; larger bodies skip them (counted). Default 1 MiB. */
  body: number;
  /** Consecutive failures after which the plugin is disabled. Default 10. */
  failures: number;
}

/** YAML `limits:` keys (of a declaration or a pack plugin) and the PluginLimits field each one sets. */
export const LIMIT_KEYS = {
  hook_ms: "hookMs",
  capture_ms: "captureMs",
  setup_ms: "setupMs",
  memory: "memory",
  body: "body",
  failures: "failures",
} as const satisfies Record<string, keyof PluginLimits>;

export const DEFAULT_PLUGIN_LIMITS: PluginLimits = {
  hookMs: 10,
  captureMs: 100,
  setupMs: 1000,
  memory: 64 * 1024 * 1024,
  body: 1024 * 1024,
  failures: 10,
};

/** One entry of the YAML `plugins:` list, resolved but not yet loaded. */
export interface PluginDeclaration {
  /** Unique instance id, `^[a-zA-Z][a-zA-Z0-9_-]*$`; used in records, metrics and logs. */
  id: string;
  /** A bundled plugin name (`redaction`) or a path to a `.js` file, as written. */
  use: string;
  /** For a path: the file resolved against the config file's folder. */
  file?: string;
  /** For a plugin of an installed pack (`pack/plugin@version`): which one. */
  packRef?: PackRef;
  /** The pack plugin's source, already read (fixtures run from a pack in memory). */
  pack?: PackSource;
  /** The instance config given to `setup`, validated against the manifest. */
  config: Record<string, unknown>;
  /** Proxy names the plugin applies to; absent means every proxy. */
  routes?: string[];
  /** Overrides the manifest's failure mode. */
  fail?: FailMode;
  limits: PluginLimits;
  /** Where the declaration sits, for errors. */
  location?: ConfigLocation;
  /** Location of a path inside `config` (e.g. `["rules", 0, "match"]`), for config errors. */
  locateConfig?: (path: readonly (string | number)[]) => ConfigLocation;
}

/** What `onRequest` may return. */
export interface RequestPatch {
  method?: string;
  /** New path and query, starting with `/`. */
  url?: string;
  headers?: HeaderPatch;
  respond?: DirectResponse;
  /** `false` skips capturing this exchange. */
  capture?: boolean;
}

/** What `onResponse` may return. */
export interface ResponsePatch {
  status?: number;
  status_text?: string;
  headers?: HeaderPatch;
}

/** Why a hook call did not return a usable value. */
export type FailureKind = "error" | "timeout" | "oom" | "disabled" | "invalid" | "unavailable";
