/** The pack store's file access through node:fs, shared by the three runtimes. */
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { DirEntry, PackFiles } from "../../plugins/packs/pack-files.ts";
import { nodeFileSystem } from "./fs.ts";

/** node:fs behind the PackFiles interface. */
export const nodePackFiles: PackFiles = {
  readFile: (path) => nodeFileSystem.readFile(path),
  async writeFile(path: string, bytes: Uint8Array): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes, { mode: 0o644 });
  },
  writeFileAtomic: (path, bytes) => nodeFileSystem.writeFileAtomic(path, bytes),
  async list(dir: string): Promise<DirEntry[]> {
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      return entries.filter((e) => e.isFile() || e.isDirectory()).map((e) => ({
        name: e.name,
        directory: e.isDirectory(),
      }));
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return [];
      throw error;
    }
  },
  async kind(path: string): Promise<"file" | "directory" | undefined> {
    try {
      const info = await stat(path);
      return info.isDirectory() ? "directory" : info.isFile() ? "file" : undefined;
    } catch {
      return undefined;
    }
  },
  removeTree: (path) => rm(path, { recursive: true, force: true }),
  async rename(from: string, to: string): Promise<void> {
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to);
  },
};
