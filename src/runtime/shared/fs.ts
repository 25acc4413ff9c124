/** File access for sinks and config through node:fs, shared by the three runtimes. */
import { Buffer } from "node:buffer";
import { mkdir, open, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { AppendFile, SinkFileSystem } from "../../sinks/types.ts";

/** Opens files for appending, creating parent directories as needed. */
export const nodeFileSystem: SinkFileSystem = {
  async openAppend(path: string): Promise<AppendFile> {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, "a");
    return {
      async append(text: string): Promise<void> {
        const data = Buffer.from(text, "utf8");
        let offset = 0;
        while (offset < data.byteLength) {
          const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset);
          offset += bytesWritten;
        }
      },
      close: () => handle.close(),
    };
  },
};

/** Reads a UTF-8 text file. */
export function readTextFile(path: string): Promise<string> {
  return readFile(path, "utf8");
}
