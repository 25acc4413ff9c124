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

const HEAD_BYTES = 1024;
const TIMESTAMP_RE = /"timestamp":"([^"]+)"/;

/**
 * Calls `onLine` with the first `headBytes` of every line of `file` (as
 * latin1 text), reading in 4 MiB blocks: a 1 MiB record costs no more to
 * count than a small one.
 */
export function forEachLineHead(file: string, headBytes: number, onLine: (head: string) => void): void {
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  const fd = openSync(file, "r");
  let head = "";
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      let pos = 0;
      while (pos < n) {
        const found = buf.indexOf(10, pos);
        const nl = found >= n ? -1 : found;
        const segEnd = nl < 0 ? n : nl;
        if (head.length < headBytes && segEnd > pos) {
          head += buf.toString("latin1", pos, Math.min(segEnd, pos + headBytes - head.length));
        }
        if (nl < 0) break;
        onLine(head);
        head = "";
        pos = nl + 1;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Record counts and bytes of the JSONL files under a directory. */
export interface RecordCounts {
  /** Every line. */
  records: number;
  /** Lines whose `timestamp` (request start) lies in the window; lines without one count as inside. */
  inWindow: number;
  bytes: number;
}

/**
 * Count the records in every `*.jsonl` under `dir`, and those whose request
 * started within [`sinceMs`, `untilMs`].
 */
export function countRecords(dir: string, sinceMs = -Infinity, untilMs = Infinity): RecordCounts {
  const counts: RecordCounts = { records: 0, inWindow: 0, bytes: 0 };
  for (const file of jsonlFiles(dir)) {
    counts.bytes += statSync(file).size;
    forEachLineHead(file, HEAD_BYTES, (head) => {
      counts.records++;
      const m = TIMESTAMP_RE.exec(head);
      const t = m?.[1] === undefined ? NaN : Date.parse(m[1]);
      if (Number.isNaN(t) || (t >= sinceMs && t <= untilMs)) counts.inWindow++;
    });
  }
  return counts;
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
export async function waitDrained(dir: string, quietMs = 1000, maxMs = 10_000): Promise<number> {
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
