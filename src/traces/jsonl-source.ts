/**
 * Traces of a JSONL capture: its live file, then its rotated files
 * (`api-20261203T101502.123Z.jsonl`, newest first), read backwards. A
 * position is a file name, an end offset and the id of the file's first
 * record: when the live file rotates, the same first record is found under
 * its rotated name, so a cursor survives rotation. Names in a cursor are only
 * compared with the files listed here, never used as paths.
 */
import type { CaptureRecord } from "../shared/record.ts";
import { baseName, directoryOf, splitPath } from "../sinks/rotated-name.ts";
import type { SinkFileSystem } from "../sinks/types.ts";
import { readJsonl, recordProblem } from "./jsonl-reader.ts";
import { readLinesBackwards } from "./reverse-jsonl.ts";
import {
  CursorError,
  type PositionedRecord,
  type SourceBounds,
  type SourcePosition,
  type TraceSource,
} from "./trace-source.ts";
import { isTrace } from "./trace-summary.ts";

/** Bytes read to find a file's first record id. */
const HEAD_BYTES = 64 * 1024;
const decoder = new TextDecoder();

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Lines that are frames or events, recognised without parsing (tapline writes `type` first). */
function isStreamLine(text: string): boolean {
  return text.startsWith('{"type":"websocket_frame"') || text.startsWith('{"type":"sse_event"') ||
    text.startsWith('{"type":"grpc_message"');
}

function parse(text: string): CaptureRecord | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return recordProblem(value) === undefined ? (value as CaptureRecord) : undefined;
  } catch {
    // A half-written last line, or a line that is not a record: not a trace.
    return undefined;
  }
}

/** Whether an error says the file is not there (any more). */
function isMissing(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ENOENT";
}

/** Whether a record is inside the bounds. */
export function withinBounds(record: CaptureRecord, bounds: SourceBounds): boolean {
  if (bounds.route !== undefined && record.route_name !== bounds.route) return false;
  if (bounds.since !== undefined && record.timestamp < bounds.since) return false;
  if (bounds.until !== undefined && record.timestamp > bounds.until) return false;
  return true;
}

/** The traces of one JSONL capture path. */
export class JsonlTraceSource implements TraceSource {
  readonly key: string;
  readonly #fs: SinkFileSystem;
  readonly #path: string;
  readonly #dir: string;
  readonly #rotated: RegExp;

  /** @param key the source's name in cursors (not the path: cursors should not reveal server paths) */
  constructor(fs: SinkFileSystem, path: string, key: string) {
    this.#fs = fs;
    this.#path = path;
    this.key = key;
    this.#dir = directoryOf(path);
    const { stem, ext } = splitPath(path);
    this.#rotated = new RegExp(`^${escapeRegex(stem)}-\\d{8}T\\d{6}\\.\\d{3}Z(?:_\\d+)?${escapeRegex(ext)}$`);
  }

  /** The live file and the rotated ones, newest first, as [name, path]. */
  async #files(): Promise<[string, string][]> {
    const prefix = this.#path.slice(0, this.#path.length - baseName(this.#path).length);
    const rotated = (await this.#fs.list(this.#dir)).filter((name) => this.#rotated.test(name)).sort().reverse();
    return [[baseName(this.#path), this.#path], ...rotated.map((name): [string, string] => [name, prefix + name])];
  }

  /**
   * The lines of `path` newest first, from `end` back. A file renamed or
   * deleted meanwhile (rotation, retention, archival) simply has no more
   * lines: its records are found under the rotated name by the next page.
   */
  async *#lines(path: string, end: number): AsyncGenerator<{ text: string; end: number }> {
    try {
      yield* readLinesBackwards(this.#fs, path, end);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  /** The id of a file's first record ("" when it has none yet, or is gone). */
  async #firstId(path: string): Promise<string> {
    let bytes: Uint8Array;
    try {
      bytes = await this.#fs.readRange(path, 0, HEAD_BYTES);
    } catch (error) {
      if (isMissing(error)) return "";
      throw error;
    }
    const head = decoder.decode(bytes);
    const newline = head.indexOf("\n");
    const record = newline === -1 ? undefined : parse(head.slice(0, newline));
    return record?.id ?? "";
  }

  async *newest(from: SourcePosition | undefined, bounds: SourceBounds): AsyncGenerator<PositionedRecord> {
    const files = await this.#files();
    let index = 0;
    let end: number | undefined;
    if (from !== undefined) {
      const { f, o, h } = from;
      if (typeof f !== "string" || typeof o !== "number" || typeof h !== "string" || o < 0) {
        throw new CursorError("The cursor is malformed");
      }
      index = -1;
      for (const [i, [name, path]] of files.entries()) {
        // The named file if it still starts with the same record; else the file it was rotated to.
        if ((name === f || index === -1) && (await this.#firstId(path)) === h) {
          index = i;
          if (name === f) break;
        }
      }
      if (index === -1) {
        throw new CursorError("The cursor's capture file is gone (deleted or archived); list again without a cursor");
      }
      end = o;
    }
    for (; index < files.length; index++) {
      const [name, path] = files[index]!;
      const size = (await this.#fs.size(path)) ?? 0;
      const head = await this.#firstId(path);
      for await (const line of this.#lines(path, Math.min(end ?? size, size))) {
        if (isStreamLine(line.text)) continue;
        const record = parse(line.text);
        if (record === undefined || !isTrace(record) || !withinBounds(record, bounds)) continue;
        yield { record, position: { f: name, o: line.end, h: head } };
      }
      end = undefined;
    }
  }

  async *oldest(bounds: SourceBounds): AsyncGenerator<CaptureRecord> {
    for (const [, path] of (await this.#files()).reverse()) {
      try {
        for await (const { record } of readJsonl(this.#fs, path)) if (withinBounds(record, bounds)) yield record;
      } catch (error) {
        // Rotated away or archived while being read: what it held is under its new name or in S3.
        if (!isMissing(error)) throw error;
      }
    }
  }

  async find(id: string): Promise<CaptureRecord | undefined> {
    const quoted = JSON.stringify(id);
    for (const [, path] of await this.#files()) {
      const size = (await this.#fs.size(path)) ?? 0;
      for await (const line of this.#lines(path, size)) {
        if (!line.text.includes(quoted)) continue;
        const record = parse(line.text);
        if (record?.id === id) return record;
      }
    }
    return undefined;
  }

  async *related(connectionId: string): AsyncGenerator<CaptureRecord> {
    const quoted = JSON.stringify(connectionId);
    const found: CaptureRecord[] = [];
    for (const [, path] of await this.#files()) {
      const size = (await this.#fs.size(path)) ?? 0;
      for await (const line of this.#lines(path, size)) {
        if (!line.text.includes(quoted)) continue;
        const record = parse(line.text);
        if (record !== undefined && "connection_id" in record && record.connection_id === connectionId) {
          found.push(record);
        }
      }
    }
    // Read newest first and backwards: reversed, they are in file order, which a stable sort keeps for equal times.
    found.reverse().sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    yield* found;
  }
}
