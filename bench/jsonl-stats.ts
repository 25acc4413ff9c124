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

/** Total size of the `*.jsonl` files under `dir`. */
function totalSize(dir: string): number {
  let bytes = 0;
  for (const file of jsonlFiles(dir)) bytes += statSync(file).size;
  return bytes;
}

/**
 * Wait until the writer has drained: the JSONL size has not changed for
 * `quietMs` (or `maxMs` passed). Returns the milliseconds waited, which is
 * how far capture lagged behind forwarding.
 */
export async function waitDrained(dir: string, quietMs = 400, maxMs = 10_000): Promise<number> {
  const start = Date.now();
  let last = totalSize(dir);
  let stableSince = Date.now();
  while (Date.now() - start < maxMs) {
    await new Promise((r) => setTimeout(r, 100));
    const now = totalSize(dir);
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= quietMs) {
      break;
    }
  }
  return Math.max(0, stableSince - start);
}

/**
 * Empty every `*.jsonl` under `dir` in place. The writer keeps its file
 * open in append mode, so its next write lands at the new end.
 */
export function truncateRecords(dir: string): void {
  for (const file of jsonlFiles(dir)) truncateSync(file, 0);
}
