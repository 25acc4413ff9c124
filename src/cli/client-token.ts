/**
 * The token a command (`tapline plugins`, `tapline tail`) sends to the admin
 * API: `--token-file`, else TAPLINE_ADMIN_TOKEN, else the one tapline
 * generated in its data directory (TAPLINE_DATA_DIR, else `./data`). A token
 * file's first token is used; a `read:` or `admin:` scope prefix is dropped.
 */
import { DEFAULT_DATA_DIR } from "../config/options.ts";
import type { Runtime } from "../runtime/types.ts";
import { UsageError } from "../shared/errors.ts";

/** The token, or undefined when none is configured (the API then answers 401, which says what to do). */
export async function clientToken(tokenFile: string | undefined, runtime: Runtime): Promise<string | undefined> {
  const env = runtime.env();
  const fromEnv = env["TAPLINE_ADMIN_TOKEN"];
  if (tokenFile === undefined && fromEnv) return fromEnv;
  const file = tokenFile ?? `${(env["TAPLINE_DATA_DIR"] || DEFAULT_DATA_DIR).replace(/[/\\]+$/, "")}/admin_token`;
  let text: string;
  try {
    text = await runtime.readTextFile(file);
  } catch {
    if (tokenFile !== undefined) throw new UsageError(`Cannot read the token file ${tokenFile}`);
    return undefined;
  }
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== "" && !l.startsWith("#"));
  return line?.replace(/^(?:read|admin):/, "");
}
