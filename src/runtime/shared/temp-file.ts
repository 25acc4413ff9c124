/**
 * A temporary file beside its destination, written in full and synced to
 * disk before it takes the destination's place (by rename or link), so no
 * reader ever sees a half-written file.
 */
import { randomUUID } from "node:crypto";
import { open, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Write `bytes` to a new hidden file in the folder of `path` (which must
 * exist) and sync it; returns the temporary file's path. With `mode`, the
 * file gets exactly that mode whatever the umask. On failure nothing is left.
 *
 * @example const temp = await writeTempBeside("/data/x.db", bytes); await rename(temp, "/data/x.db");
 */
export async function writeTempBeside(path: string, bytes: Uint8Array, mode?: number): Promise<string> {
  // Random, so concurrent writers (in this process or another) never share a temporary file.
  const temp = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  const handle = await open(temp, "wx", mode ?? 0o666);
  try {
    // The mode given to open is reduced by the umask.
    if (mode !== undefined) await handle.chmod(mode);
    let offset = 0;
    while (offset < bytes.byteLength) {
      const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
      offset += bytesWritten;
    }
    // The data must be on disk before the file takes the destination's place.
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  return temp;
}
