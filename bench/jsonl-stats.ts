/**
 * Counts and resets the JSONL files a capturing proxy writes, so each
 * measured run reports how many records it produced.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";

function jsonlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".jsonl")).map((f) => join(dir, f));
}

/** Lines (records) and bytes in every `*.jsonl` under `dir`. */
export function countRecords(dir: string): { records: number; bytes: number } {
  let records = 0;
  let bytes = 0;
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  for (const file of jsonlFiles(dir)) {
    bytes += statSync(file).size;
    const fd = openSync(file, "r");
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n <= 0) break;
        let at = buf.indexOf(10);
        while (at >= 0 && at < n) {
          records++;
          at = buf.indexOf(10, at + 1);
        }
      }
    } finally {
      closeSync(fd);
    }
  }
  return { records, bytes };
}

/**
 * Empty every `*.jsonl` under `dir` in place. The writer keeps its file
 * open in append mode, so its next write lands at the new end.
 */
export function truncateRecords(dir: string): void {
  for (const file of jsonlFiles(dir)) truncateSync(file, 0);
}
