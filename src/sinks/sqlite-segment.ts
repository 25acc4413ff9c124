/** What RotatingSqliteSink needs of a SQLite sink, whichever engine writes it. */
import type { SqlCell, SqlRow } from "./sql-database.ts";
import type { RecordSink } from "./types.ts";

/** A SQLite database file that can be closed off as a rotated segment. */
export interface SqliteSegment extends RecordSink {
  readonly path: string;
  /** The largest segment this engine should grow (sql.js exports the whole database on every flush). */
  readonly maxSegmentBytes: number;
  open(): Promise<void>;
  /** Size of the live database in bytes. */
  readonly approximateBytes: number;
  /** Runs a read query on the live database (rows not yet in the file included); [] before it is open. */
  query(sql: string, params: readonly SqlCell[]): SqlRow[];
  /** Ends the segment: its rows go to `toPath`, and a fresh database takes over `path`. */
  rotate(toPath: string): Promise<void>;
}
