/**
 * Capture files of either format read as one stream of records: JSONL line
 * by line, SQLite (recognised by its header, whatever the file is called)
 * through sql.js, its four tables merged in timestamp order. sql.js reads the
 * main database file only: rows a running native engine has not yet folded
 * from its `-wal` file are not seen (a closed or rotated file has none).
 */
import type { Database, SqlJsStatic } from "sql.js";
import type { SinkFileSystem } from "../sinks/types.ts";
import { loadSqlJs } from "../sinks/sql-js.ts";
import { readJsonl, type ReadJsonlOptions, type ReadRecord } from "./jsonl-reader.ts";
import { RECORD_TABLES, recordOfRow, type RecordTable, type Row } from "./sqlite-records.ts";
import { UsageError } from "../shared/errors.ts";

/** The two formats. */
export type CaptureFormat = "jsonl" | "sqlite";

/** "SQLite format 3\0", the first 16 bytes of every SQLite database. */
const SQLITE_MAGIC = "SQLite format 3\u0000";

/** The format of a capture file, from its first bytes. @throws UsageError when it does not exist */
export async function captureFormat(fs: SinkFileSystem, file: string): Promise<CaptureFormat> {
  if ((await fs.size(file)) === undefined) throw new UsageError(`Capture file "${file}" does not exist`);
  const head = await fs.readRange(file, 0, 16);
  return new TextDecoder().decode(head) === SQLITE_MAGIC ? "sqlite" : "jsonl";
}

/**
 * The records of one capture file, JSONL or SQLite.
 *
 * @example
 * ```ts
 * for await (const { record } of readCaptureFile(runtime.fs, "logs/api.db")) count++;
 * ```
 */
export async function* readCaptureFile(
  fs: SinkFileSystem,
  file: string,
  options: ReadJsonlOptions = {},
): AsyncGenerator<ReadRecord> {
  if ((await captureFormat(fs, file)) === "jsonl") {
    yield* readJsonl(fs, file, options);
    return;
  }
  const bytes = await fs.readFile(file);
  let sql: SqlJsStatic;
  let db: Database;
  try {
    sql = await loadSqlJs();
    db = new sql.Database(bytes);
  } catch (error) {
    throw new UsageError(`Cannot open SQLite capture file "${file}": ${String(error)}`);
  }
  try {
    let line = 0;
    for (const { table, row } of mergedRows(db)) {
      yield { record: recordOfRow(table, row), file, offset: 0, line: ++line };
    }
    options.onProgress?.(bytes.length, bytes.length);
  } finally {
    db.close();
  }
}

/** Rows of every record table that exists, in timestamp order across tables. */
function* mergedRows(db: Database): Generator<{ table: RecordTable; row: Row }> {
  const present = new Set(
    (db.exec("SELECT name FROM sqlite_master WHERE type = 'table'")[0]?.values ?? []).map((r) => String(r[0])),
  );
  const cursors = RECORD_TABLES.filter((table) => present.has(table)).map((table) => {
    const statement = db.prepare(`SELECT * FROM ${table} ORDER BY timestamp, rowid`);
    return { table, statement, row: undefined as Row | undefined };
  });
  const advance = (cursor: typeof cursors[number]) => {
    cursor.row = cursor.statement.step() ? (cursor.statement.getAsObject() as Row) : undefined;
  };
  try {
    cursors.forEach(advance);
    for (;;) {
      let next: typeof cursors[number] | undefined;
      for (const cursor of cursors) {
        if (cursor.row === undefined) continue;
        if (next === undefined || String(cursor.row["timestamp"]) < String(next.row!["timestamp"])) next = cursor;
      }
      if (next === undefined) return;
      yield { table: next.table, row: next.row! };
      advance(next);
    }
  } finally {
    for (const cursor of cursors) cursor.statement.free();
  }
}

/** The records of several capture files, one file after another. */
export async function* readCaptureFiles(
  fs: SinkFileSystem,
  files: readonly string[],
  options: ReadJsonlOptions & { onFile?: (file: string, index: number) => void } = {},
): AsyncGenerator<ReadRecord> {
  for (const [index, file] of files.entries()) {
    options.onFile?.(file, index);
    yield* readCaptureFile(fs, file, options);
  }
}
