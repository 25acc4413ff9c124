/**
 * Reloading plugins from their files: on SIGHUP, and with `--watch` when the
 * config file, the saved set or a plugin file changes. What is reloaded is
 * what a restart would run (the admin API's saved set when there is one, else
 * the config file's list), built and swapped like an API reload: a bad edit
 * is logged with its location and the running set stays.
 */
import { parsePluginDocument } from "../config/plugin-document.ts";
import type { PluginGenerations, PluginSetError } from "../plugins/generations.ts";
import type { PluginDeclaration } from "../plugins/types.ts";
import type { Runtime } from "../runtime/types.ts";
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

/** What `--watch` compares: the text of every file the running set was built from. */
async function fingerprint(files: PluginFiles): Promise<string> {
  const paths = [
    files.configFile,
    files.savedFile,
    ...files.generations.current.declarations.map((declaration) => declaration.file),
  ].filter((path): path is string => path !== undefined);
  const texts = await Promise.all(paths.map((path) => readOrEmpty(files.runtime, path)));
  return paths.map((path, i) => `${path}\0${texts[i] ?? ""}`).join("\0\0");
}

/**
 * Reloads whenever the files change, once a change has held still for one
 * interval (an editor's save is often several writes). Returns a stop function.
 */
export function watchPluginFiles(files: PluginFiles): () => void {
  let applied: string | undefined;
  let seen: string | undefined;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const now = await fingerprint(files);
      if (applied === undefined) applied = now;
      else if (now !== applied && now === seen) {
        await reloadFromFiles(files, "a watched file changed");
        // A rejected edit is not retried until the files change again.
        applied = await fingerprint(files);
      }
      seen = now;
    } finally {
      busy = false;
    }
  }, WATCH_INTERVAL_MS);
  return () => clearInterval(timer);
}
