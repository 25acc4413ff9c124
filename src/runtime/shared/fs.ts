/** File access for sinks and config through node:fs, shared by the three runtimes. */
import { Buffer } from "node:buffer";
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { createReadStream, createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import * as zlib from "node:zlib";
import type { AppendFile, SinkFileSystem } from "../../sinks/types.ts";
import { AppendFailure } from "../../sinks/write-errors.ts";
import { writeTempBeside } from "./temp-file.ts";

/** Opens files for appending, creating parent directories as needed. */
export const nodeFileSystem: SinkFileSystem = {
  async openAppend(path: string): Promise<AppendFile> {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, "a");
    return {
      async append(text: string): Promise<number> {
        const data = Buffer.from(text, "utf8");
        let offset = 0;
        try {
          while (offset < data.byteLength) {
            const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset);
            offset += bytesWritten;
          }
        } catch (error) {
          // A full disk often takes part of a write first: say how much.
          throw new AppendFailure(offset, error);
        }
        return data.byteLength;
      },
      truncate: (size: number) => handle.truncate(size),
      async isCurrent(): Promise<boolean> {
        const [open, named] = await Promise.all([handle.stat(), stat(path).catch(() => undefined)]);
        return named !== undefined && named.ino === open.ino && named.dev === open.dev;
      },
      close: () => handle.close(),
    };
  },
  async writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await rename(await writeTempBeside(path, bytes), path);
  },
  async readFile(path: string): Promise<Uint8Array> {
    return new Uint8Array(await readFile(path));
  },
  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const handle = await open(path, "r");
    try {
      const out = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(out, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? out : out.subarray(0, filled);
    } finally {
      await handle.close();
    }
  },
  async compressFile(from: string, to: string, format: "gzip" | "zstd"): Promise<void> {
    // Streamed: a 100 MB rotated file is never held in memory.
    await pipeline(createReadStream(from), compressor(format), createWriteStream(to));
  },
  canCompress: (format: "gzip" | "zstd") => format === "gzip" || zstdCompressor() !== undefined,
  rename: (from: string, to: string) => rename(from, to),
  remove: (path: string) => rm(path, { force: true }),
  async list(dir: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return [];
      throw error;
    }
  },
  async size(path: string): Promise<number | undefined> {
    try {
      return (await stat(path)).size;
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return undefined;
      throw error;
    }
  },
};

/** Reads a UTF-8 text file. */
export function readTextFile(path: string): Promise<string> {
  return readFile(path, "utf8");
}

/** node:zlib's zstd compressor where the runtime has one (Node 22.15+, 23.8+), else undefined. */
function zstdCompressor(): (() => NodeJS.ReadWriteStream) | undefined {
  const create = (zlib as unknown as { createZstdCompress?: () => NodeJS.ReadWriteStream }).createZstdCompress;
  return typeof create === "function" ? () => create() : undefined;
}

function compressor(format: "gzip" | "zstd"): NodeJS.ReadWriteStream {
  if (format === "gzip") return zlib.createGzip({ level: 6 });
  const zstd = zstdCompressor();
  if (zstd === undefined) throw new Error("zstd compression is not available in this runtime");
  return zstd();
}
