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
 * started within [`sinceMs`, `untilMs`]. Only the first KiB of each line is
 * parsed, so 1 MiB records cost no more than small ones.
 */
export function countRecords(dir: string, sinceMs = -Infinity, untilMs = Infinity): RecordCounts {
  const counts: RecordCounts = { records: 0, inWindow: 0, bytes: 0 };
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  for (const file of jsonlFiles(dir)) {
    counts.bytes += statSync(file).size;
    const fd = openSync(file, "r");
    let head: Buffer[] = [];
    let headLen = 0;
    const endLine = () => {
      counts.records++;
      const m = TIMESTAMP_RE.exec(Buffer.concat(head).toString("latin1"));
      const t = m?.[1] === undefined ? NaN : Date.parse(m[1]);
      if (Number.isNaN(t) || (t >= sinceMs && t <= untilMs)) counts.inWindow++;
      head = [];
      headLen = 0;
    };
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n <= 0) break;
        let pos = 0;
        while (pos < n) {
          let nl = buf.indexOf(10, pos);
          if (nl >= n) nl = -1;
          const segEnd = nl < 0 ? n : nl;
          if (headLen < HEAD_BYTES && segEnd > pos) {
            const take = Math.min(HEAD_BYTES - headLen, segEnd - pos);
            head.push(Buffer.from(buf.subarray(pos, pos + take)));
            headLen += take;
          }
          if (nl < 0) break;
          endLine();
          pos = nl + 1;
        }
      }
    } finally {
      closeSync(fd);
    }
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
