/**
 * This instance's name in S3 keys (`{instance}`): `--instance-id`, or the
 * host name with a short random suffix, made once and kept in
 * `<data dir>/instance_id`, so a restart keeps its name and two instances on
 * one host (or two hosts with the same name) never share one.
 */
import type { Runtime } from "../runtime/types.ts";
import { ConfigError } from "../shared/errors.ts";
import { shown } from "../shared/shown-value.ts";

/** The file the generated id is kept in, under the data dir. */
export const INSTANCE_ID_FILE = "instance_id";

const VALID = /^[A-Za-z0-9._-]{1,64}$/;

/** Why `id` cannot name an instance, or undefined. */
export function instanceIdProblem(id: string): string | undefined {
  return VALID.test(id) ? undefined : "must be 1 to 64 letters, digits, '.', '_' or '-'";
}

/** A host name reduced to what keys allow: `Build-Host.local` -> `build-host.local`. */
function hostPart(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^[.-]+|[.-]+$/g, "").slice(0, 48);
  return cleaned === "" ? "tapline" : cleaned;
}

/**
 * The instance id for `configured` (from `--instance-id`), else the one kept
 * in `dataDir`, else a new one (written there).
 *
 * @throws ConfigError for an id keys cannot carry.
 */
export async function resolveInstanceId(
  configured: string | undefined,
  dataDir: string,
  runtime: Pick<Runtime, "fs" | "hostname" | "readTextFile">,
): Promise<string> {
  if (configured !== undefined) {
    const problem = instanceIdProblem(configured);
    if (problem !== undefined) {
      throw new ConfigError(`Invalid --instance-id ${shown(configured)}: ${problem}`, { field: "instance_id" });
    }
    return configured;
  }
  const file = `${dataDir}/${INSTANCE_ID_FILE}`;
  try {
    const kept = (await runtime.readTextFile(file)).trim();
    if (instanceIdProblem(kept) === undefined) return kept;
  } catch {
    // Not made yet.
  }
  const suffix = [...crypto.getRandomValues(new Uint8Array(3))].map((b) => b.toString(16).padStart(2, "0")).join("");
  const id = `${hostPart(runtime.hostname())}-${suffix}`;
  await runtime.fs.writeFileAtomic(file, new TextEncoder().encode(`${id}\n`));
  return id;
}
