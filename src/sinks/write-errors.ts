/**
 * How sinks report a write that failed part-way, so nothing is counted twice
 * or lost without a count: an append that stopped after some bytes (a full
 * disk), and a batch of which only the first records reached the file.
 */
import { describeError } from "../shared/describe-error.ts";

/** An append that failed after `bytesWritten` bytes had reached the file. */
export class AppendFailure extends Error {
  readonly bytesWritten: number;
  constructor(bytesWritten: number, cause: unknown) {
    super(describeError(cause), { cause });
    this.name = "AppendFailure";
    this.bytesWritten = bytesWritten;
  }
}

/**
 * A batch of which the first `written` records are in the file, whole, and
 * the rest are not: the pipeline counts them as written and as write errors.
 */
export class PartialWriteError extends Error {
  readonly written: number;
  constructor(written: number, total: number, cause: unknown) {
    super(`Wrote ${written} of ${total} records: ${describeError(cause)}`, { cause });
    this.name = "PartialWriteError";
    this.written = written;
  }
}

/** UTF-8 byte length of `text` without encoding it. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      // A surrogate pair: 2 code units, 4 bytes.
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}
