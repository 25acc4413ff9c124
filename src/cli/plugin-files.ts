/**
 * The files around the plugin control plane: the plugin list saved by the
 * admin API (read at start over the config file's), and the SHA-256 of each
 * plugin's source, so `GET /api/plugins` says exactly what code runs.
 */
import { parsePluginDocument } from "../config/plugin-document.ts";
import { BUNDLED_PLUGINS } from "../plugins/bundled.ts";
import type { PluginDeclaration } from "../plugins/types.ts";
import type { Runtime } from "../runtime/types.ts";
import type { PackStore } from "../plugins/packs/store.ts";
import type { Logger } from "../shared/logger.ts";

/** Where the saved list is and what it may refer to. */
export interface SavedPluginSet {
  file: string;
  proxyNames: readonly string[];
  runtime: Runtime;
  logger: Logger;
}

/**
 * The plugin list the admin API saved, or undefined when there is none.
 *
 * @throws ConfigError naming the line of the saved file that is wrong.
 */
export async function savedPluginSet(saved: SavedPluginSet): Promise<PluginDeclaration[] | undefined> {
  if ((await saved.runtime.fs.size(saved.file)) === undefined) return undefined;
  const text = await saved.runtime.readTextFile(saved.file);
  const declarations = parsePluginDocument(text, { file: saved.file, proxyNames: saved.proxyNames });
  saved.logger.info("plugins restored from the admin API's saved set, over the config file's list", {
    file: saved.file,
    plugins: declarations.map((declaration) => declaration.id),
  });
  return declarations;
}

/** SHA-256 (hex) of a declared plugin's source as it is now (for a pack plugin, as the lock records it). */
export async function sourceHash(declaration: PluginDeclaration, runtime: Runtime, packs?: PackStore): Promise<string> {
  if (declaration.packRef && packs) {
    const entry = await packs.find(declaration.packRef);
    const manifest = await packs.manifestOf(entry);
    const plugin = manifest.plugins.find((p) => p.name === declaration.packRef!.plugin);
    return (plugin && entry.files[plugin.entry]) ?? "";
  }
  const source = declaration.file === undefined
    ? BUNDLED_PLUGINS[declaration.use] ?? ""
    : await runtime.readTextFile(declaration.file);
  const hash = new runtime.sha256();
  hash.update(source);
  const digest = await hash.digest();
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The folder of a file path (`.` when it has none). */
export function dirOf(path: string): string {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return slash < 0 ? "." : path.slice(0, slash) || "/";
}
