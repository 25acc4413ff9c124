/**
 * `tapline reindex DB FILE.jsonl...`: rebuilds a SQLite capture database from
 * JSONL capture files, so a lost or corrupt database can be recovered. A line
 * that does not parse (typically the half-written last line after a crash) is
 * skipped with a warning, never fatal.
 */
import type { CaptureRecord } from "../shared/record.ts";
import { UsageError } from "../shared/errors.ts";
import type { SinkFileSystem } from "../sinks/types.ts";
import { readJsonl, type SkippedLine } from "../traces/jsonl-reader.ts";
import { InsertError } from "../sinks/sqlite-inserter.ts";
import { describeError } from "../shared/describe-error.ts";

export type { SkippedLine };

/** What `tapline reindex` was asked to do. */
export interface ReindexArgs {
  database: string;
  files: string[];
  /** Replace an existing database. */
  force: boolean;
}

/** The sink reindex writes through (the SQLite sink). */
export interface ReindexSink {
  open(): Promise<void>;
  writeBatch(records: readonly CaptureRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** What a reindex did. */
export interface ReindexSummary {
  files: number;
  records: number;
  skipped: SkippedLine[];
}

const BATCH = 1000;

export const REINDEX_USAGE = "Usage: tapline reindex [--force] DATABASE.db FILE.jsonl...";

/** Parses the arguments after `reindex`. @throws UsageError */
export function parseReindexArgs(argv: readonly string[]): ReindexArgs {
  let force = false;
  const positional: string[] = [];
  for (const arg of argv) {
    if (arg === "--force" || arg === "-force") force = true;
    else if (arg.startsWith("-") && arg !== "-") {
      throw new UsageError(`Unknown flag ${arg} for reindex. ${REINDEX_USAGE}`);
    } else positional.push(arg);
  }
  const [database, ...files] = positional;
  if (database === undefined) throw new UsageError(`Missing the database to rebuild. ${REINDEX_USAGE}`);
  if (files.length === 0) throw new UsageError(`Missing the JSONL files to read. ${REINDEX_USAGE}`);
  if (files.includes(database)) throw new UsageError(`The database "${database}" is also given as a JSONL file`);
  return { database, files, force };
}

/** Options of a reindex run. */
export interface ReindexOptions {
  fs: SinkFileSystem;
  /** Opens a sink writing a fresh database at `path`. */
  createSink(path: string): ReindexSink;
  /** Called after each file and batch, for progress bars. */
  onProgress?(progress: { file: string; fileIndex: number; files: number; fraction: number; records: number }): void;
  /** Called for every skipped line. */
  onSkip?(skipped: SkippedLine): void;
}

/**
 * Builds the database in a temporary file beside it and renames it into
 * place at the end, so a failed run leaves the old database (if any) intact.
 */
export async function reindex(args: ReindexArgs, options: ReindexOptions): Promise<ReindexSummary> {
  const { fs } = options;
  if (!args.force && (await fs.size(args.database)) !== undefined) {
    throw new UsageError(`Database "${args.database}" already exists: pass --force to replace it`);
  }
  for (const file of args.files) {
    if ((await fs.size(file)) === undefined) throw new UsageError(`JSONL file "${file}" does not exist`);
  }
  const temporary = `${args.database}.reindex-${Date.now()}.tmp`;
  await fs.remove(temporary);
  const sink = options.createSink(temporary);
  const summary: ReindexSummary = { files: args.files.length, records: 0, skipped: [] };
  try {
    await sink.open();
    for (const [fileIndex, file] of args.files.entries()) {
      let batch: CaptureRecord[] = [];
      let firstLine = 0;
      let lastLine = 0;
      let fraction = 0;
      /** Writes the batch; records the database refused are skipped (a shape check missed them), never fatal. */
      const flush = async () => {
        try {
          await sink.writeBatch(batch);
          summary.records += batch.length;
        } catch (error) {
          if (!(error instanceof InsertError)) throw error;
          summary.records += error.inserted;
          const skipped = {
            file,
            line: firstLine,
            reason: `${
              batch.length - error.inserted
            } of the records on lines ${firstLine}-${lastLine} could not be inserted: ${describeError(error.cause)}`,
          };
          summary.skipped.push(skipped);
          options.onSkip?.(skipped);
        }
        batch = [];
      };
      const lines = readJsonl(fs, file, {
        onSkip: (skipped) => {
          summary.skipped.push(skipped);
          options.onSkip?.(skipped);
        },
        onProgress: (read, size) => (fraction = size === 0 ? 1 : read / size),
      });
      for await (const { record, line } of lines) {
        if (batch.length === 0) firstLine = line;
        lastLine = line;
        batch.push(record);
        if (batch.length === BATCH) {
          await flush();
          options.onProgress?.({ file, fileIndex, files: args.files.length, fraction, records: summary.records });
        }
      }
      if (batch.length > 0) await flush();
      options.onProgress?.({ file, fileIndex, files: args.files.length, fraction: 1, records: summary.records });
    }
    await sink.close();
  } catch (error) {
    await sink.close().catch(() => {});
    await fs.remove(temporary);
    throw error;
  }
  await fs.rename(temporary, args.database);
  return summary;
}

/** A one-line progress bar for a terminal: `[#####.....] 2/5 api.jsonl 12,345 records`. */
export function progressBar(
  progress: { file: string; fileIndex: number; files: number; fraction: number; records: number },
  width = 30,
): string {
  const overall = (progress.fileIndex + progress.fraction) / progress.files;
  const filled = Math.round(overall * width);
  const name = progress.file.split(/[/\\]/).pop() ?? progress.file;
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${progress.fileIndex + 1}/${progress.files} ${name} ${
    progress.records.toLocaleString("en-US")
  } records`;
}
