/**
 * The captures a running tapline can read back: each proxy's live SQLite
 * database when it has one, else its JSONL file (with the rotated ones).
 * Files archived to S3 and deleted locally are out of reach.
 */
import type { SinkFileSystem } from "../sinks/types.ts";
import type { RecordFilter } from "./filter/filter.ts";
import { JsonlTraceSource } from "./jsonl-source.ts";
import { type LiveDatabase, SqliteTraceSource } from "./sqlite-source.ts";
import type { TraceSource } from "./trace-source.ts";

/** What is readable. */
export interface ReadableCaptures {
  jsonl: readonly string[];
  sqlite: readonly LiveDatabase[];
}

/** Hands out the sources to read for a request. */
export class TraceStore {
  readonly #fs: SinkFileSystem;
  readonly #captures: ReadableCaptures;

  constructor(fs: SinkFileSystem, captures: ReadableCaptures) {
    this.#fs = fs;
    this.#captures = captures;
  }

  /** Whether anything is captured to a readable place at all. */
  get empty(): boolean {
    return this.#captures.jsonl.length === 0 && this.#captures.sqlite.length === 0;
  }

  /** The sources, loading bodies from SQLite only when the filter reads them. */
  sources(filter?: RecordFilter): TraceSource[] {
    const withBodies = filter?.readsBodies ?? true;
    return [
      ...this.#captures.sqlite.flatMap((db, i) => [
        new SqliteTraceSource(db, "http_entries", `s${i}h`, withBodies),
        new SqliteTraceSource(db, "custom_records", `s${i}c`, true),
      ]),
      ...this.#captures.jsonl.map((path, i) => new JsonlTraceSource(this.#fs, path, `j${i}`)),
    ];
  }
}
