/**
 * Finding rotated capture files as the spec names them, independently of
 * tapline's code: `api.jsonl` rotated becomes
 * `api-20261121T101502.123Z.jsonl` (UTC, millisecond stamp), with `_1`,
 * `_2`, ... before the extension for further rotations in the same
 * millisecond.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CaptureRecord } from "../../../src/shared/record.ts";

/** One rotated file of a live file. */
export interface RotatedFile {
  name: string;
  path: string;
  /** `20261121T101502.123Z` */
  stamp: string;
  /** 0 for none, else the same-millisecond counter. */
  counter: number;
  /** The stamp as a time (ms). */
  time: number;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The rotated files of the live file `live` (a file name such as `api.jsonl`) in `dir`, oldest first. */
export function rotatedFiles(dir: string, live: string): RotatedFile[] {
  const dot = live.lastIndexOf(".");
  const stem = live.slice(0, dot);
  const ext = live.slice(dot);
  const re = new RegExp(`^${escape(stem)}-(\\d{8}T\\d{6}\\.\\d{3}Z)(?:_([1-9]\\d*))?${escape(ext)}$`);
  const out: RotatedFile[] = [];
  for (const name of readdirSync(dir)) {
    const m = re.exec(name);
    if (!m) continue;
    const s = m[1]!;
    const iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${
      s.slice(13)
    }`;
    out.push({
      name,
      path: join(dir, name),
      stamp: s,
      counter: m[2] === undefined ? 0 : Number(m[2]),
      time: Date.parse(iso),
    });
  }
  return out.sort((a, b) => (a.stamp === b.stamp ? a.counter - b.counter : a.stamp < b.stamp ? -1 : 1));
}

/** Every line of a JSONL file parsed; throws naming the file and line that is not a complete record. */
export function parseJsonl(file: string, text: string = readFileSync(file, "utf8")): CaptureRecord[] {
  if (text !== "" && !text.endsWith("\n")) throw new Error(`${file}: last line has no newline`);
  return text.split("\n").slice(0, -1).map((line, i) => {
    try {
      return JSON.parse(line) as CaptureRecord;
    } catch (err) {
      throw new Error(`${file}:${i + 1}: not JSON (${(err as Error).message}): ${line.slice(0, 200)}`);
    }
  });
}

/** Records per type. */
export function countByType(records: readonly CaptureRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) out[r.type] = (out[r.type] ?? 0) + 1;
  return out;
}
