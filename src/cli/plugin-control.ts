/**
 * The plugin control plane behind the admin API: parses a `plugins:`
 * document with the config file's checks, builds and swaps the set through
 * PluginGenerations, then saves it to `<data dir>/plugins.runtime.yaml` so the
 * next start runs it too. Saving comes after the swap: a set that failed its
 * checks is never written, and a failed save leaves the running set as it is
 * and says so (`persisted: false`).
 */
import type { AppliedSet, PluginControl, PluginSetView, PluginTypeView } from "../admin/plugin-control.ts";
import { parsePluginDocument, pluginDocument, pluginEntryOf } from "../config/plugin-document.ts";
import { BUNDLED_PLUGINS } from "../plugins/bundled.ts";
import type { PluginGenerations } from "../plugins/generations.ts";
import type { PluginInstance } from "../plugins/instance.ts";
import { PluginSandbox } from "../plugins/sandbox.ts";
import { DEFAULT_PLUGIN_LIMITS, type PluginDeclaration, type PluginManifest } from "../plugins/types.ts";
import type { Runtime } from "../runtime/types.ts";
import type { PackStore } from "../plugins/packs/store.ts";
import type { Logger } from "../shared/logger.ts";

/** The saved plugin list, read at start over the config file's. */
export const RUNTIME_PLUGINS_FILE = "plugins.runtime.yaml";

/** What the control plane is built from. */
export interface PluginControlOptions {
  generations: PluginGenerations;
  /** The config file's plugin list (what `DELETE /api/plugins` goes back to). */
  configured: readonly PluginDeclaration[];
  /** Relative plugin paths in a request resolve against this folder (the config file's). */
  baseDir: string;
  proxyNames: readonly string[];
  /** `<data dir>/plugins.runtime.yaml`. */
  savedFile: string;
  /** SHA-256 (hex) of the source each instance was loaded from. */
  sourceHash: (instance: PluginInstance) => string;
  /** Installed packs, whose plugins `GET /api/plugins/types` lists beside the bundled ones. */
  packs?: PackStore;
  runtime: Runtime;
  logger: Logger;
}

const encoder = new TextEncoder();

/** Builds the PluginControl the admin API calls. */
export function createPluginControl(options: PluginControlOptions): PluginControl {
  const { generations, runtime, logger } = options;
  const parse = (text: string) =>
    parsePluginDocument(text, { file: `${options.baseDir}/(request)`, proxyNames: options.proxyNames });
  let types: Promise<PluginTypeView[]> | undefined;

  const save = async (declarations: readonly PluginDeclaration[] | undefined): Promise<boolean> => {
    try {
      if (declarations === undefined) await runtime.fs.remove(options.savedFile);
      else {
        const text = pluginDocument(declarations.map(pluginEntryOf));
        await runtime.fs.writeFileAtomic(options.savedFile, encoder.encode(text));
      }
      return true;
    } catch (error) {
      logger.error("Failed to save the plugin set", { file: options.savedFile, error });
      return false;
    }
  };

  const swap = async (declarations: readonly PluginDeclaration[], saved: readonly PluginDeclaration[] | undefined) => {
    const generation = await generations.replace(declarations);
    return { generation: generation.number, persisted: await save(saved) } satisfies AppliedSet;
  };

  return {
    list(): PluginSetView {
      const current = generations.current;
      return {
        generation: current.number,
        plugins: current.instances.map((instance, index) => {
          const declaration = current.declarations[index]!;
          const entry = pluginEntryOf(declaration);
          return {
            id: instance.id,
            use: declaration.use,
            name: instance.manifest.name,
            version: instance.manifest.version,
            sha256: options.sourceHash(instance),
            hooks: [...instance.hooks],
            fail: instance.fail,
            limits: entry["limits"] as Record<string, number>,
            ...(instance.routes ? { routes: [...instance.routes] } : {}),
            config: declaration.config,
            disabled: instance.disabled,
            counters: instance.metrics,
          };
        }),
      };
    },
    async types() {
      const bundled = await (types ??= bundledTypes());
      return options.packs ? [...bundled, ...await packTypes(options.packs)] : bundled;
    },
    entries: () => generations.current.declarations.map(pluginEntryOf),
    validate: (document) => generations.validate(parse(document)),
    async apply(document) {
      const declarations = parse(document);
      return await swap(declarations, declarations);
    },
    reset: () => swap(options.configured, undefined),
  };
}

/** The plugins of installed packs, as `use:` names them (`pack/plugin@version`), from their pack manifests. */
async function packTypes(packs: PackStore): Promise<PluginTypeView[]> {
  const views: PluginTypeView[] = [];
  for (const entry of await packs.list()) {
    let manifest;
    try {
      manifest = await packs.manifestOf(entry);
    } catch {
      continue; // A pack whose files are gone is reported when something loads it.
    }
    for (const plugin of manifest.plugins) {
      views.push({
        name: `${entry.name}/${plugin.name}@${entry.version}`,
        version: entry.version,
        description: plugin.description ?? manifest.description,
        hooks: plugin.hooks ?? [],
        ...(plugin.fail ? { fail: plugin.fail } : {}),
        ...(plugin.config_schema ? { config_schema: plugin.config_schema } : {}),
      });
    }
  }
  return views;
}

/** The bundled plugins' manifests, read by evaluating each once in a sandbox. */
async function bundledTypes(): Promise<PluginTypeView[]> {
  const views: PluginTypeView[] = [];
  for (const [name, source] of Object.entries(BUNDLED_PLUGINS)) {
    const sandbox = await PluginSandbox.load({
      source,
      fileName: `plugins/${name}/plugin.js`,
      memory: DEFAULT_PLUGIN_LIMITS.memory,
      loadMs: DEFAULT_PLUGIN_LIMITS.setupMs,
      host: { emit() {}, log() {} },
    });
    try {
      const manifest = sandbox.manifest as PluginManifest;
      views.push({
        name,
        version: manifest.version,
        description: manifest.description,
        hooks: [...manifest.hooks],
        ...(manifest.fail ? { fail: manifest.fail } : {}),
        ...(manifest.config_schema ? { config_schema: manifest.config_schema } : {}),
      });
    } finally {
      sandbox.dispose();
    }
  }
  return views;
}
