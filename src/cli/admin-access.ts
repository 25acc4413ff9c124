/**
 * Who may use the admin API, from the config: the tokens (configured ones,
 * else the generated `<data dir>/admin_token`) and the Host names answered.
 */
import type { AdminAccess } from "../admin/app.ts";
import { allowedHosts } from "../admin/host-check.ts";
import { parseTokenFile } from "../admin/token-file.ts";
import { type AdminToken, generateToken, TokenStore } from "../admin/tokens.ts";
import { DEFAULT_DATA_DIR } from "../config/options.ts";
import { resolveAgainst } from "../config/plugins.ts";
import type { Config } from "../config/types.ts";
import { describeError } from "../shared/describe-error.ts";
import { ConfigError, UnavailableError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { Runtime } from "../runtime/types.ts";

/** Name of the generated token file in the data dir. */
export const GENERATED_TOKEN_FILE = "admin_token";

/** What loading needs from the process. */
export interface AdminAccessContext {
  runtime: Runtime;
  logger: Logger;
}

/**
 * The tokens and Host names of the admin listener of `config` (which must
 * have one). Logs where the tokens come from, never a token.
 *
 * @throws ConfigError for a token file that is unreadable or wrong (located), UnavailableError when the
 *   generated token file cannot be written.
 */
export async function loadAdminAccess(config: Config, context: AdminAccessContext): Promise<AdminAccess> {
  const { logger } = context;
  const tokens: AdminToken[] = [...(config.adminTokens ?? [])];
  if (config.adminTokenFile !== undefined) tokens.push(...(await readTokenFile(config.adminTokenFile, context)));
  const from = [...new Set(tokens.map((token) => sourceName(token.source)))];
  if (tokens.length === 0) {
    // Absolute, so the logged path can be opened from anywhere.
    const dir = resolveAgainst(`${context.runtime.cwd()}/`, config.dataDir ?? DEFAULT_DATA_DIR);
    tokens.push(...(await generatedTokens(`${dir.replace(/[/\\]+$/, "")}/${GENERATED_TOKEN_FILE}`, context)));
  }
  const store = await TokenStore.create(tokens);
  if (from.length > 0) logger.info("admin tokens", { from, admin: store.count("admin"), read: store.count("read") });
  return { tokens: store, hosts: allowedHosts(config.listenAdmin?.host ?? "", config.adminAllowedHosts ?? []) };
}

/** The generated admin token: created on the first start, read again on every later one. */
async function generatedTokens(file: string, context: AdminAccessContext): Promise<AdminToken[]> {
  let created: boolean;
  try {
    created = await context.runtime.createPrivateFile(file, `${generateToken()}\n`);
  } catch (error) {
    throw new UnavailableError(
      `Failed to create the admin token file "${file}": ${describeError(error)} (set --data-dir to a writable folder)`,
      "data_dir_unwritable",
    );
  }
  // The path, never the token: logs are read by more people than the file.
  context.logger.info(created ? "admin token generated" : "admin token reused", { file });
  return await readTokenFile(file, context);
}

async function readTokenFile(file: string, context: AdminAccessContext): Promise<AdminToken[]> {
  let text: string;
  try {
    text = await context.runtime.readTextFile(file);
  } catch (error) {
    throw new ConfigError(`Cannot read the admin token file "${file}": ${describeError(error)}`, { file });
  }
  return parseTokenFile(text, file);
}

/** `tokens.txt:3:1` → `tokens.txt`; `app.yaml:7:9: admin.tokens[0].token` → `app.yaml admin.tokens`. */
function sourceName(source: string): string {
  const field = /^(.*?):\d+:\d+: (admin\.tokens)\[\d+\]/.exec(source);
  if (field) return `${field[1]} ${field[2]}`;
  return source.replace(/:\d+:\d+$/, "");
}
