/**
 * JSONL capture files read back as records, one line at a time and a chunk of
 * the file in memory at most, with the byte offset of each line (what a
 * cursor needs). A line that is not a record is skipped and reported, never
 * fatal: the last line of a file being written may be half a line.
 */
import { concatBytes } from "../shared/bytes.ts";
import { shapeProblem } from "./record-shape.ts";
import { describeError } from "../shared/describe-error.ts";
import type { CaptureRecord } from "../shared/record.ts";
import type { SinkFileSystem } from "../sinks/types.ts";

/** A record and where it was read. */
export interface ReadRecord {
  record: CaptureRecord;
  file: string;
  /** Byte offset of the line in the file. */
  offset: number;
  /** 1-based line number. */
  line: number;
}

/** A line that is not a record, and why. */
export interface SkippedLine {
  file: string;
  line: number;
  reason: string;
}

/** The record types tapline writes. */
export const RECORD_TYPES: ReadonlySet<string> = new Set([
  "http",
  "websocket_frame",
  "sse_event",
  "grpc_message",
  "custom",
]);

/** Why a parsed JSON value is not a record, or undefined when it is one. */
export function recordProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string" || !RECORD_TYPES.has(type)) {
    return `unknown record type ${JSON.stringify(type)?.slice(0, 64)}`;
  }
  return shapeProblem(value as Record<string, unknown>);
}

/** Bytes read from the file at a time. */
const CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;
const decoder = new TextDecoder();

/** Options of {@link readJsonl}. */
export interface ReadJsonlOptions {
  /** Called for each line that is not a record. */
  onSkip?: (skipped: SkippedLine) => void;
  /** Called after each chunk with the bytes read so far and the file's size, for progress bars. */
  onProgress?: (read: number, size: number) => void;
}

/**
 * The records of a JSONL file, in file order.
 *
 * @example
 * ```ts
 * for await (const { record, offset } of readJsonl(runtime.fs, "logs/api.jsonl")) console.log(offset, record.id);
 * ```
 */
export async function* readJsonl(
  fs: SinkFileSystem,
  file: string,
  options: ReadJsonlOptions = {},
): AsyncGenerator<ReadRecord> {
  const size = (await fs.size(file)) ?? 0;
  let position = 0;
  let lineNumber = 0;
  /** Bytes of a line that continues into the next chunk. */
  let pending: Uint8Array[] = [];
  let pendingOffset = 0;
  while (position < size) {
    const chunk = await fs.readRange(file, position, Math.min(CHUNK_BYTES, size - position));
    if (chunk.length === 0) break;
    let start = 0;
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, start)) {
      const offset = pending.length > 0 ? pendingOffset : position + start;
      const bytes = pending.length > 0 ? concatBytes([...pending, chunk.subarray(start, i)]) : chunk.subarray(start, i);
      pending = [];
      lineNumber++;
      start = i + 1;
      const read = parseLine(bytes, file, lineNumber, offset, options, false);
      if (read) yield read;
    }
    if (start < chunk.length) {
      if (pending.length === 0) pendingOffset = position + start;
      pending.push(chunk.slice(start));
    }
    position += chunk.length;
    options.onProgress?.(position, size);
  }
  if (pending.length > 0) {
    const read = parseLine(concatBytes(pending), file, lineNumber + 1, pendingOffset, options, true);
    if (read) yield read;
  }
}

function parseLine(
  bytes: Uint8Array,
  file: string,
  line: number,
  offset: number,
  options: ReadJsonlOptions,
  unterminated: boolean,
): ReadRecord | undefined {
  const text = decoder.decode(bytes);
  if (text.trim() === "") return undefined;
  let problem: string | undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
    problem = recordProblem(value);
  } catch (error) {
    problem = unterminated
      ? "partially written last line (the writer stopped mid-line)"
      : `invalid JSON: ${describeError(error)}`;
  }
  if (problem !== undefined) {
    options.onSkip?.({ file, line, reason: problem });
    return undefined;
  }
  return { record: value as CaptureRecord, file, offset, line };
}
