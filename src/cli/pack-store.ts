/**
 * The pack store of a configuration: its data dir, this tapline's version,
 * and the trusted keys from YAML `trusted_keys` and `--trusted-keys FILE`.
 * Shared by the proxy (which loads pack plugins) and `tapline pack`.
 */
import { DEFAULT_DATA_DIR } from "../config/options.ts";
import { resolveAgainst } from "../config/plugins.ts";
import type { Config } from "../config/types.ts";
import { PackStore } from "../plugins/packs/store.ts";
import { parsePublicKey } from "../plugins/packs/signature.ts";
import type { Runtime } from "../runtime/types.ts";
import { ConfigError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { VERSION } from "../version.ts";

/** The trusted keys of `config`, or undefined when none are configured (signatures optional). */
export async function trustedKeysOf(
  config: Pick<Config, "trustedKeys" | "trustedKeysFile">,
  runtime: Runtime,
): Promise<string[] | undefined> {
  if (config.trustedKeys === undefined && config.trustedKeysFile === undefined) return undefined;
  const keys = [...config.trustedKeys ?? []];
  if (config.trustedKeysFile !== undefined) {
    let text: string;
    try {
      text = await runtime.readTextFile(config.trustedKeysFile);
    } catch (error) {
      throw new ConfigError(`Cannot read trusted keys ${config.trustedKeysFile}: ${(error as Error).message}`, {
        file: config.trustedKeysFile,
      });
    }
    text.split("\n").forEach((raw, i) => {
      const line = raw.replace(/#.*/, "").trim();
      if (line === "") return;
      try {
        parsePublicKey(line);
      } catch (error) {
        const where = { file: config.trustedKeysFile!, line: i + 1, column: 1 };
        throw new ConfigError(`${where.file}:${where.line}:1: ${(error as Error).message}`, where);
      }
      keys.push(line);
    });
  }
  return keys;
}

/** The data dir of `config`, absolute, without a trailing separator. */
export function dataDirOf(config: Pick<Config, "dataDir">, runtime: Runtime): string {
  return resolveAgainst(`${runtime.cwd()}/`, config.dataDir ?? DEFAULT_DATA_DIR).replace(/[/\\]+$/, "");
}

/** The pack store of `config`. */
export async function openPackStore(
  config: Pick<Config, "dataDir" | "trustedKeys" | "trustedKeysFile">,
  runtime: Runtime,
  logger: Logger,
): Promise<PackStore> {
  const trustedKeys = await trustedKeysOf(config, runtime);
  return new PackStore({
    files: runtime.packFiles,
    dataDir: dataDirOf(config, runtime),
    taplineVersion: VERSION,
    logger,
    ...(trustedKeys ? { trustedKeys } : {}),
  });
}
