/**
 * The plugin contract: hook names, the manifest every plugin exports, the
 * YAML declaration of a plugin instance, and the JSON shapes that cross the
 * sandbox boundary. Values cross as JSON text, so every shape here is plain
 * data. A hook returning `undefined` always means "unchanged".
 */
import type { ConfigLocation } from "../shared/errors.ts";

/** Hooks on the forwarding path: synchronous, short deadline. */
export const MUTATE_HOOKS = [
  "onRequest",
  "onRequestBody",
  "onResponse",
  "onResponseBody",
  "onSseEvent",
  "onWsMessage",
] as const;

/** Hooks off the forwarding path. */
export const OBSERVE_HOOKS = ["onCapture"] as const;

export type MutateHookName = typeof MUTATE_HOOKS[number];
export type HookName = MutateHookName | typeof OBSERVE_HOOKS[number];

/** Every hook a plugin may export, in the order an exchange meets them. */
export const HOOK_NAMES: readonly HookName[] = [...MUTATE_HOOKS, ...OBSERVE_HOOKS];

/** What a failing plugin does to the traffic or record it was handling. */
export type FailMode = "open" | "closed";

/**
 * `export const manifest = {...}` of a plugin module
 * (schemas/plugin-manifest.schema.json).
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

/** Headers as plugins see them: lower-case names, repeated values joined with ", ". */
export type PluginHeaders = Record<string, string>;

/**
 * Header changes: a string or list sets the header (replacing every value),
 * `null` removes it.
 */
export type HeaderPatch = Record<string, string | string[] | null>;

/** The request as mutate hooks see it. */
export interface RequestView {
  /** The exchange id (the `id` of its http record). */
  id: string;
  route: string;
  method: string;
  /** Path and query. */
  url: string;
  path: string;
  /** The query string without `?`, `""` when none. */
  query: string;
  headers: PluginHeaders;
  client_ip: string;
}

/** A direct answer from `onRequest`, sent without asking the upstream. */
export interface DirectResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string;
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

/** The response head as `onResponse` and `onResponseBody` see it. */
export interface ResponseView {
  status: number;
  status_text: string;
  headers: PluginHeaders;
}

/** What `onResponse` may return. */
export interface ResponsePatch {
  status?: number;
  status_text?: string;
  headers?: HeaderPatch;
}

/** One Server-Sent Event as `onSseEvent` sees it; return it changed, or `null` to drop it. */
export interface SseEventView {
  /** `message` when the event had no `event:` field. */
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

/** One WebSocket text message as `onWsMessage` sees it; return new text, `{data}`, or `null` to drop it. */
export interface WsMessageView {
  direction: "client_to_server" | "server_to_client";
  data: string;
}

/** The connection a WebSocket message belongs to. */
export interface WsConnectionView {
  /** The `id` of the upgrade's http record (the frames' `connection_id`). */
  id: string;
  route: string;
  url: string;
}

/** Why a hook call did not return a usable value. */
export type FailureKind = "error" | "timeout" | "oom" | "disabled" | "invalid" | "unavailable";
