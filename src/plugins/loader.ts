/**
 * Turns the YAML `plugins:` declarations into running instances: reads each
 * plugin's source (bundled or a file), evaluates it in its sandbox, checks its
 * manifest (or, for a file without one, derives it from the file name and the
 * exported hooks), validates the instance config against the manifest's schema
 * and runs `setup`. Every failure is a ConfigError naming the plugin and where.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import manifestSchema from "../../schemas/plugin-manifest.schema.json" with { type: "json" };
import { ConfigError, type ConfigLocation } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { BUNDLED_PLUGINS } from "./bundled.ts";
import { type EmitHandler, PluginInstance } from "./instance.ts";
import { PluginMetrics } from "./metrics.ts";
import { PluginSandbox } from "./sandbox.ts";
import { Reads } from "./reads.ts";
import {
  DEFAULT_PLUGIN_LIMITS,
  type PackSource,
  type PluginDeclaration,
  type PluginLimits,
  type PluginManifest,
  type SetupResult,
} from "./types.ts";
import type { PackRef } from "./packs/pack-ref.ts";
import { HOOK_NAMES, type HookName } from "../core/hooks.ts";

/** What loading needs from the rest of the process. */
export interface LoadOptions {
  readTextFile: (path: string) => Promise<string>;
  logger: Logger;
  /** Where custom records go. */
  onEmit?: EmitHandler;
  /**
   * Finds a plugin of an installed pack (checking its files against the
   * lock and running its fixtures). Without it, `use: pack/plugin` fails.
   */
  resolvePack?: (ref: PackRef) => Promise<PackSource>;
}

const ajv = new Ajv({ allErrors: false, strict: false });

/** Compiled config schemas by their JSON text: compiling one takes 20-70 ms, and a reload loads every plugin again. */
const validators = new Map<string, ValidateFunction>();
/** Schemas kept at most; past it the cache starts over (a process sees a handful of plugin versions). */
const MAX_VALIDATORS = 128;

/** The validator of a manifest's `config_schema`, compiled once per distinct schema. */
function configValidator(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = validators.get(key);
  if (validate === undefined) {
    // Its own Ajv instance: schemas of different plugins may reuse the same $id.
    validate = new Ajv({ allErrors: false, strict: false }).compile(schema);
    if (validators.size >= MAX_VALIDATORS) validators.clear();
    validators.set(key, validate);
  }
  return validate;
}
const checkManifest = ajv.compile(manifestSchema);

/** `plugins[2]` style label of a declaration, with its id. */
function label(declaration: PluginDeclaration): string {
  return `plugin "${declaration.id}" (${declaration.file ?? declaration.use})`;
}

function fail(declaration: PluginDeclaration, message: string, location?: ConfigLocation): never {
  const where = location ?? declaration.location ?? {};
  const prefix = where.file && where.line ? `${where.file}:${where.line}:${where.column ?? 1}: ` : "";
  const field = where.field ? `${where.field}: ` : "";
  throw new ConfigError(`${prefix}${field}${message}`, where, "plugin_invalid");
}

/** The JSON pointer of an ajv error as path segments (`/rules/0/match` -> ["rules", 0, "match"]). */
function pathOf(error: ErrorObject): (string | number)[] {
  const segments: (string | number)[] = error.instancePath.split("/").slice(1).map((part) => {
    const text = part.replace(/~1/g, "/").replace(/~0/g, "~");
    return /^\d+$/.test(text) ? Number(text) : text;
  });
  const extra = error.params as { additionalProperty?: string; missingProperty?: string };
  if (extra.additionalProperty) segments.push(extra.additionalProperty);
  return segments;
}

function describe(error: ErrorObject): string {
  const extra = error.params as { additionalProperty?: string; allowedValues?: unknown[] };
  if (extra.additionalProperty) return `unknown key "${extra.additionalProperty}"`;
  if (extra.allowedValues) return `${error.message}: ${extra.allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
  return error.message ?? "is invalid";
}

/** Reads the source of a declared plugin: bundled by name, a pack's, or the file. */
async function sourceOf(
  declaration: PluginDeclaration,
  options: LoadOptions,
): Promise<{ source: string; file: string; pack?: PackSource }> {
  if (declaration.pack || declaration.packRef) {
    let pack = declaration.pack;
    if (!pack) {
      if (!options.resolvePack) return fail(declaration, `packs are not available here (${declaration.use})`);
      try {
        pack = await options.resolvePack(declaration.packRef!);
      } catch (error) {
        return fail(declaration, (error as Error).message);
      }
    }
    if (pack.source === undefined) {
      return fail(
        declaration,
        `pack ${pack.packId} has no file ${pack.plugin.entry} (the entry of ${pack.plugin.name})`,
      );
    }
    return { source: pack.source, file: pack.file, pack };
  }
  if (declaration.file) {
    try {
      return { source: await options.readTextFile(declaration.file), file: declaration.file };
    } catch (error) {
      return fail(declaration, `cannot read plugin file ${declaration.file}: ${(error as Error).message}`);
    }
  }
  const source = BUNDLED_PLUGINS[declaration.use];
  if (source === undefined) {
    const known = Object.keys(BUNDLED_PLUGINS).join(", ");
    return fail(
      declaration,
      `unknown bundled plugin "${declaration.use}": use one of ${known}, or a path to a .js file`,
    );
  }
  return { source, file: `plugins/${declaration.use}/plugin.js` };
}

/** The version a plugin without a manifest reports (in the "plugin loaded" log line). */
const IMPLICIT_VERSION = "0.0.0";

/**
 * The manifest of a loaded module, checked against the manifest schema and
 * against what the module exports. A plugin file that exports no `manifest`
 * gets one derived from its file name and exported hooks, so a custom capture
 * script is just its hooks; bundled plugins always carry their own, so they
 * are checked as written.
 */
function manifestOf(
  declaration: PluginDeclaration,
  file: string,
  sandbox: PluginSandbox,
  pack: PackSource | undefined,
): PluginManifest {
  const manifest = sandbox.manifest;
  const exported = sandbox.exportedHooks;
  if (manifest === undefined && pack) return packManifest(declaration, pack, exported);
  if (manifest === undefined && declaration.file) return implicitManifest(declaration, file, exported);
  if (!checkManifest(manifest)) {
    const error = checkManifest.errors![0]!;
    fail(
      declaration,
      `invalid manifest in ${file}: manifest${error.instancePath.replace(/\//g, ".")}: ${describe(error)}`,
    );
  }
  const typed = manifest as unknown as PluginManifest;
  const declared = [...typed.hooks].sort();
  if (declared.join() !== [...exported].sort().join()) {
    fail(
      declaration,
      `manifest of ${file} lists hooks [${typed.hooks.join(", ")}] but the module exports [${exported.join(", ")}]`,
    );
  }
  return typed;
}

/**
 * The manifest of a plugin file that has none: named after the file, every
 * exported hook, no config schema (config passes as given), failing open
 * unless the declaration says otherwise.
 */
function implicitManifest(declaration: PluginDeclaration, file: string, exported: HookName[]): PluginManifest {
  if (exported.length === 0) {
    fail(
      declaration,
      `Plugin "${declaration.id}" (${file}) exports no hook: export one of ${HOOK_NAMES.join(", ")}`,
    );
  }
  return {
    name: baseName(file),
    version: IMPLICIT_VERSION,
    description: "Plugin script without a manifest",
    hooks: exported,
    fail: "open",
  };
}

/**
 * The manifest of a pack plugin whose module exports none: its fields in
 * tapline-pack.yaml, the pack's version, and the hooks the module exports
 * (which must be those the pack lists, when it lists them).
 */
function packManifest(declaration: PluginDeclaration, pack: PackSource, exported: HookName[]): PluginManifest {
  const entry = pack.plugin;
  if (exported.length === 0) {
    fail(declaration, `${pack.file} exports no hook: export one of ${HOOK_NAMES.join(", ")}`);
  }
  if (entry.hooks && [...entry.hooks].sort().join() !== [...exported].sort().join()) {
    fail(
      declaration,
      `tapline-pack.yaml of ${pack.packId} lists hooks [${entry.hooks.join(", ")}] for ${entry.name} ` +
        `but ${entry.entry} exports [${exported.join(", ")}]`,
    );
  }
  return {
    name: entry.name.replace(/_/g, "-"),
    version: pack.version,
    description: entry.description ?? `${entry.name} from ${pack.packId}`,
    hooks: exported,
    ...(entry.config_schema ? { config_schema: entry.config_schema } : {}),
    ...(entry.fail ? { fail: entry.fail } : {}),
    ...(entry.reads ? { reads: entry.reads } : {}),
  };
}

/** A declaration's limits with a pack's defaults where the declaration kept tapline's. */
function limitsOf(declaration: PluginDeclaration, pack: PackSource | undefined): PluginLimits {
  const limits = { ...declaration.limits };
  for (const [key, value] of Object.entries(pack?.plugin.limits ?? {}) as [keyof PluginLimits, number][]) {
    if (limits[key] === DEFAULT_PLUGIN_LIMITS[key]) limits[key] = value;
  }
  return limits;
}

/** `./scripts/tag-slow.js` -> `tag-slow` (either separator, since paths come from every platform). */
function baseName(path: string): string {
  const name = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

/** Loads one declared plugin. */
export async function loadPlugin(given: PluginDeclaration, options: LoadOptions): Promise<PluginInstance> {
  const { source, file, pack } = await sourceOf(given, options);
  const declaration = pack ? { ...given, limits: limitsOf(given, pack) } : given;
  // The instance exists before its sandbox so the sandbox's host functions can reach it.
  let instance: PluginInstance | undefined;
  const sandbox = await PluginSandbox.load({
    source,
    fileName: file,
    memory: declaration.limits.memory,
    loadMs: declaration.limits.setupMs,
    host: {
      emit: (json) => instance?.emit(json),
      log: (level, message) =>
        instance
          ? instance.log(level, message)
          : options.logger.info("plugin log", { plugin: declaration.id, level, message }),
    },
  });
  try {
    const typed = manifestOf(declaration, file, sandbox, pack);
    const exported = sandbox.exportedHooks;
    if (typed.config_schema) {
      let validate;
      try {
        validate = configValidator(typed.config_schema);
      } catch (error) {
        fail(declaration, `invalid config_schema in the manifest of ${file}: ${(error as Error).message}`);
      }
      if (!validate(declaration.config)) {
        const error = validate.errors![0]!;
        const path = pathOf(error);
        const location = declaration.locateConfig?.(path);
        fail(declaration, `invalid config for ${label(declaration)}: ${describe(error)}`, location);
      }
    }
    const setup = sandbox.setup(JSON.stringify(declaration.config), declaration.limits.setupMs);
    if (!setup.ok) fail(declaration, `setup of ${label(declaration)} failed: ${setup.message}`);
    const narrowed = narrow(declaration, exported, setup.value, typed.reads);
    const id = declaration.id;
    instance = new PluginInstance({
      id,
      manifest: typed,
      fail: declaration.fail ?? typed.fail ?? "open",
      limits: declaration.limits,
      routes: declaration.routes,
      hooks: narrowed.hooks,
      bodyContentTypes: narrowed.bodyContentTypes,
      reads: narrowed.reads,
      metrics: new PluginMetrics(id),
      logger: options.logger,
    });
    instance.attach(sandbox, options.onEmit);
    return instance;
  } catch (error) {
    sandbox.dispose();
    throw error;
  }
}

/** Applies what setup returned to the hooks the host calls. */
function narrow(
  declaration: PluginDeclaration,
  exported: HookName[],
  value: unknown,
  manifestReads: string[] | undefined,
): { hooks: HookName[]; bodyContentTypes: string[] | undefined; reads: Reads } {
  const readsOf = (list: unknown, what: string) => {
    try {
      return Reads.parse(list);
    } catch (error) {
      fail(declaration, `${what} of ${label(declaration)}: ${(error as Error).message}`);
    }
  };
  const manifestRead = readsOf(manifestReads, "manifest");
  if (value === undefined || value === null) {
    return { hooks: exported, bodyContentTypes: undefined, reads: manifestRead };
  }
  const result = value as SetupResult;
  if (typeof result !== "object" || Array.isArray(result)) {
    fail(declaration, `setup of ${label(declaration)} must return undefined or {hooks?, body_content_types?, reads?}`);
  }
  let hooks = exported;
  if (result.hooks !== undefined) {
    const unknown = Array.isArray(result.hooks)
      ? result.hooks.filter((hook) => !HOOK_NAMES.includes(hook) || !exported.includes(hook))
      : ["(not a list)"];
    if (unknown.length > 0) {
      fail(declaration, `setup of ${label(declaration)} returned hooks it does not export: ${unknown.join(", ")}`);
    }
    hooks = exported.filter((hook) => result.hooks!.includes(hook));
  }
  const types = result.body_content_types;
  if (
    types !== undefined &&
    (!Array.isArray(types) || types.some((type) => typeof type !== "string" || !type.includes("/")))
  ) {
    fail(
      declaration,
      `setup of ${label(declaration)} returned invalid body_content_types: media types such as "text/*"`,
    );
  }
  const reads = result.reads === undefined ? manifestRead : readsOf(result.reads, "setup result");
  return { hooks, bodyContentTypes: types, reads };
}

/** Loads every declared plugin in order; on a failure the ones loaded are freed. */
export async function loadPlugins(
  declarations: readonly PluginDeclaration[],
  options: LoadOptions,
): Promise<PluginInstance[]> {
  const loaded: PluginInstance[] = [];
  try {
    for (const declaration of declarations) loaded.push(await loadPlugin(declaration, options));
  } catch (error) {
    for (const instance of loaded) instance.dispose();
    throw error;
  }
  return loaded;
}
