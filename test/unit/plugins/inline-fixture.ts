/** Inline plugin sources loaded into real sandboxes, for the plugin host unit tests. */
import { type LoadOptions, loadPlugin } from "../../../src/plugins/loader.ts";
import type { EmitHandler, PluginInstance } from "../../../src/plugins/instance.ts";
import { PluginSandbox } from "../../../src/plugins/sandbox.ts";
import {
  DEFAULT_PLUGIN_LIMITS,
  type FailMode,
  type PluginDeclaration,
  type PluginLimits,
} from "../../../src/plugins/types.ts";
import { type HookName } from "../../../src/core/hooks.ts";
import type { Logger } from "../../../src/shared/logger.ts";

/** One call made to the stub logger. */
export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  fields: Record<string, unknown> | undefined;
}

/** A logger keeping every call. */
export function stubLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine["level"]) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push({ level, msg, fields });
  };
  return { logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }, lines };
}

export interface SourceOptions {
  name?: string;
  hooks: HookName[];
  fail?: FailMode;
  config_schema?: Record<string, unknown>;
  reads?: string[];
}

/** A plugin module: a manifest built from `options` followed by `body` (which exports the hooks). */
export function pluginSource(options: SourceOptions, body: string): string {
  const manifest = {
    name: options.name ?? "inline",
    version: "1.0.0",
    description: "Inline test plugin",
    hooks: options.hooks,
    ...(options.config_schema ? { config_schema: options.config_schema } : {}),
    ...(options.fail ? { fail: options.fail } : {}),
    ...(options.reads ? { reads: options.reads } : {}),
  };
  return `export const manifest = ${JSON.stringify(manifest)};\n${body}\n`;
}

export interface InlineOptions {
  config?: Record<string, unknown>;
  fail?: FailMode;
  limits?: Partial<PluginLimits>;
  routes?: string[];
  logger?: Logger;
  onEmit?: EmitHandler;
  locateConfig?: PluginDeclaration["locateConfig"];
}

/** The declaration of an inline plugin read from the file `<id>.js`. */
export function declaration(id: string, options: InlineOptions = {}): PluginDeclaration {
  return {
    id,
    use: `./${id}.js`,
    file: `${id}.js`,
    config: options.config ?? {},
    ...(options.routes ? { routes: options.routes } : {}),
    ...(options.fail ? { fail: options.fail } : {}),
    limits: { ...DEFAULT_PLUGIN_LIMITS, ...options.limits },
    ...(options.locateConfig ? { locateConfig: options.locateConfig } : {}),
  };
}

/** Load options whose file reader returns `source`. */
export function loadOptions(source: string, options: InlineOptions = {}): LoadOptions {
  return {
    readTextFile: () => Promise.resolve(source),
    logger: options.logger ?? stubLogger().logger,
    ...(options.onEmit ? { onEmit: options.onEmit } : {}),
  };
}

/** Loads an inline plugin source as instance `id` through the real loader. */
export async function inlinePlugin(id: string, source: string, options: InlineOptions = {}): Promise<PluginInstance> {
  return await loadPlugin(declaration(id, options), loadOptions(source, options));
}

/** A bare sandbox on `source` (24 MiB unless told), with emit and log calls kept. */
export async function sandboxOf(
  source: string,
  memory = 24 * 1024 * 1024,
): Promise<{ sandbox: PluginSandbox; emitted: string[]; logged: string[] }> {
  const emitted: string[] = [];
  const logged: string[] = [];
  const sandbox = await PluginSandbox.load({
    source,
    fileName: "test-plugin.js",
    memory,
    loadMs: 1000,
    host: { emit: (json) => emitted.push(json), log: (level, message) => logged.push(`${level}:${message}`) },
  });
  return { sandbox, emitted, logged };
}
