/**
 * A file only its owner can read (mode 0600), for secrets such as the
 * generated admin token, through node:fs, which all three runtimes provide.
 */
import { link, mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { writeTempBeside } from "./temp-file.ts";

/**
 * Create `path` holding `text` with mode 0600 unless it exists; missing
 * parent folders are created with mode 0700. Returns true when this call
 * created the file, false when it was already there (it is left alone).
 *
 * The text goes to a private temporary file first, which is then hard-linked
 * to `path`: the link fails when `path` exists, so two processes starting at
 * once never overwrite each other, and nobody can see a half-written file.
 */
export async function createPrivateFile(path: string, text: string): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = await writeTempBeside(path, new TextEncoder().encode(text), 0o600);
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "EEXIST") return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}
