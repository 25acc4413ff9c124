/**
 * What the admin API asks of the plugin control plane. The CLI implements it
 * (it owns the config parser, the loader and the data directory); the API
 * only speaks HTTP.
 */
import type { PluginSetProblem } from "../plugins/generations.ts";
import type { PluginMetrics } from "../plugins/metrics.ts";

/** One running plugin instance, as `GET /api/plugins` shows it. */
export interface PluginView {
  id: string;
  use: string;
  name: string;
  version: string;
  /** SHA-256 (hex) of the source the instance was loaded from. */
  sha256: string;
  hooks: string[];
  fail: string;
  limits: Record<string, number>;
  /** Proxy names; absent means every proxy. */
  routes?: string[];
  config: Record<string, unknown>;
  disabled: boolean;
  counters: PluginMetrics;
}

/** The running set. */
export interface PluginSetView {
  generation: number;
  plugins: PluginView[];
}

/** A bundled (or installed) plugin that `use:` can name. */
export interface PluginTypeView {
  name: string;
  version: string;
  description: string;
  hooks: string[];
  fail?: string;
  config_schema?: Record<string, unknown>;
}

/** The outcome of a swap. */
export interface AppliedSet {
  generation: number;
  /** False when the new set runs but could not be saved for the next start. */
  persisted: boolean;
}

/** A plugin list that failed its checks, with what is wrong and where. */
export interface RejectedSet {
  problems: readonly PluginSetProblem[];
}

/** The control plane as the admin API uses it. */
export interface PluginControl {
  /** The running set. */
  list(): PluginSetView;
  /** The plugins `use:` can name without a path. */
  types(): Promise<PluginTypeView[]>;
  /** The running list as YAML `plugins:` entries (for changing one entry). */
  entries(): Record<string, unknown>[];
  /** Checks a `plugins:` document as a reload would; nothing changes. Throws on a bad set. */
  validate(document: string): Promise<void>;
  /** Builds, swaps in and saves the set a `plugins:` document describes. Throws on a bad set. */
  apply(document: string): Promise<AppliedSet>;
  /** Goes back to the config file's list and forgets saved changes. */
  reset(): Promise<AppliedSet>;
}
