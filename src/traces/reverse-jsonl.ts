/**
 * The lines of a file read backwards from a byte offset, a chunk at a time:
 * how a newest-first list reads a JSONL capture without reading the whole
 * file. Each line comes with the byte range it covers, so a cursor can
 * resume at it.
 */
import { concatBytes } from "../shared/bytes.ts";
import type { SinkFileSystem } from "../sinks/types.ts";

/** A line (without its newline) and its byte range `[start, end)` in the file. */
export interface FileLine {
  text: string;
  start: number;
  end: number;
}

const CHUNK_BYTES = 256 * 1024;
const NEWLINE = 0x0a;
const decoder = new TextDecoder();

/**
 * The non-empty lines that end at or before `end`, last first.
 *
 * @example
 * ```ts
 * for await (const line of readLinesBackwards(fs, "api.jsonl", size)) if (line.text.includes(id)) return line;
 * ```
 */
export async function* readLinesBackwards(fs: SinkFileSystem, file: string, end: number): AsyncGenerator<FileLine> {
  let position = end;
  let lineEnd = end;
  /** Bytes of the current line that were in chunks to the right of the one being read. */
  let tail: Uint8Array[] = [];
  while (position > 0) {
    const start = Math.max(0, position - CHUNK_BYTES);
    const chunk = await fs.readRange(file, start, position - start);
    if (chunk.length === 0) break;
    let right = chunk.length;
    // Typed arrays' lastIndexOf counts a negative start from the end, so the loop stops at index 0 itself.
    for (let i = chunk.lastIndexOf(NEWLINE, right - 1); i !== -1; i = i > 0 ? chunk.lastIndexOf(NEWLINE, i - 1) : -1) {
      const bytes = tail.length === 0
        ? chunk.subarray(i + 1, right)
        : concatBytes([chunk.subarray(i + 1, right), ...tail]);
      tail = [];
      if (bytes.length > 0) yield { text: decoder.decode(bytes), start: start + i + 1, end: lineEnd };
      lineEnd = start + i;
      right = i;
    }
    if (right > 0) tail = [chunk.subarray(0, right), ...tail];
    position = start;
  }
  if (tail.length > 0) {
    const bytes = concatBytes(tail);
    if (bytes.length > 0) yield { text: decoder.decode(bytes), start: 0, end: lineEnd };
  }
}
