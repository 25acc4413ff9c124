/**
 * Reloading plugins from their files: on SIGHUP, and with `--watch` when the
 * config file, the saved set, a plugin file or a `--grpc-descriptors` file
 * changes. What is reloaded is
 * what a restart would run (the admin API's saved set when there is one, else
 * the config file's list), built and swapped like an API reload: a bad edit
 * is logged with its location and the running set stays.
 */
import { parsePluginDocument } from "../config/plugin-document.ts";
import type { PluginGenerations, PluginSetError } from "../plugins/generations.ts";
import type { PluginDeclaration } from "../plugins/types.ts";
import type { Runtime } from "../runtime/types.ts";
import { toBase64 } from "../shared/base64.ts";
import { describeError } from "../shared/describe-error.ts";
import type { Logger } from "../shared/logger.ts";

/** Where the plugin list comes from. */
export interface PluginFiles {
  generations: PluginGenerations;
  /** The YAML config file, when tapline was started with one. */
  configFile: string | undefined;
  /** `<data dir>/plugins.runtime.yaml`. */
  savedFile: string;
  proxyNames: readonly string[];
  /** `--grpc-descriptors` files: read again with every reload, so `--watch` watches them too. */
  descriptorFiles?: readonly string[];
  runtime: Runtime;
  logger: Logger;
}

/** How often `--watch` looks at the files, in ms. Polling works the same on every runtime and file system. */
const WATCH_INTERVAL_MS = 400;

async function readOrEmpty(runtime: Runtime, path: string): Promise<string | undefined> {
  try {
    return await runtime.readTextFile(path);
  } catch {
    return undefined;
  }
}

/** The list a restart would run, read from the files as they are now. */
async function currentList(files: PluginFiles): Promise<PluginDeclaration[]> {
  const saved = await readOrEmpty(files.runtime, files.savedFile);
  if (saved !== undefined) return parsePluginDocument(saved, { file: files.savedFile, proxyNames: files.proxyNames });
  if (files.configFile === undefined) return [];
  const text = await files.runtime.readTextFile(files.configFile);
  return parsePluginDocument(text, { file: files.configFile, proxyNames: files.proxyNames, wholeConfig: true });
}

/** Reloads the plugins from their files; a failure is logged and changes nothing. */
export async function reloadFromFiles(files: PluginFiles, reason: string): Promise<void> {
  try {
    const generation = await files.generations.replace(await currentList(files));
    files.logger.info("plugins reloaded from files", { reason, generation: generation.number });
  } catch (error) {
    const problems = (error as Partial<PluginSetError>).problems;
    files.logger.error("Plugin reload from files rejected; the running set stays", {
      reason,
      problems: problems?.map((p) => p.message) ?? [describeError(error)],
    });
  }
}

/** What `--watch` compares: the text of every file the running set was built from, by path. */
async function fingerprint(files: PluginFiles): Promise<Map<string, string>> {
  const paths = [
    files.configFile,
    files.savedFile,
    ...files.generations.current.declarations.map((declaration) => declaration.file),
  ].filter((path): path is string => path !== undefined);
  const texts = await Promise.all(paths.map((path) => readOrEmpty(files.runtime, path)));
  const out = new Map(paths.map((path, i) => [path, texts[i] ?? ""]));
  // Descriptor sets are binary: compared as base64 of their bytes.
  for (const path of files.descriptorFiles ?? []) {
    out.set(path, await files.runtime.fs.readFile(path).then(toBase64, () => ""));
  }
  return out;
}

function sameFiles(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string> | undefined): boolean {
  return b !== undefined && a.size === b.size && [...a].every(([path, text]) => b.get(path) === text);
}

/** Whether a file read both times changed between `before` and `after`. */
function editedBetween(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): boolean {
  return [...before].some(([path, text]) => after.has(path) && after.get(path) !== text);
}

/**
 * Reloads whenever the files change, once a change has held still for one
 * interval (an editor's save is often several writes). Resolves, with a stop
 * function, once it has read the files it compares with.
 *
 * @example
 * ```ts
 * const stopWatching = await watchPluginFiles(pluginFiles); // before `ready`: an edit after it is a change
 * ```
 */
export async function watchPluginFiles(files: PluginFiles): Promise<() => void> {
  // Read before the caller goes on (it says `ready` next): a first look still under way when a file is edited
  // would read the edited file and take it as applied, so that edit would never be loaded.
  let applied = await fingerprint(files);
  let seen: Map<string, string> | undefined;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const now = await fingerprint(files);
      if (!sameFiles(now, applied) && sameFiles(now, seen)) {
        await reloadFromFiles(files, "a watched file changed");
        // What was loaded counts as applied (a rejected edit is not retried until the files change again), read
        // again because the new set may name other files; an edit saved while the reload ran is not, so the next
        // looks see it and reload once more.
        const after = await fingerprint(files);
        applied = editedBetween(now, after) ? now : after;
      }
      seen = now;
    } finally {
      busy = false;
    }
  }, WATCH_INTERVAL_MS);
  return () => clearInterval(timer);
}
