/**
 * The messages between the forwarding thread and the capture thread
 * (`--capture-thread`), sent by structured clone. The forwarding thread
 * builds records and runs the plugins; the capture thread owns every sink:
 * JSON encoding, SQLite inserts and commits, file writes, rotation and
 * retention. Rotated files go back to the forwarding thread, whose S3
 * uploader archives them.
 */
import type { LogFields } from "../shared/logger.ts";
import type { CaptureRecord } from "../shared/record.ts";
import type { SqlCell, SqlRow } from "../sinks/sql-database.ts";
import type { SinkSettings } from "./sinks.ts";

/** What the capture thread is started with. */
export interface CaptureThreadData {
  settings: SinkSettings;
  /** 0 for the first thread, then one more for each thread started again after one died. */
  attempt: number;
}

/** One sink's batch: records of one write, in capture order. */
export interface ThreadBatch {
  /** The sink's index in the thread's list of sinks. */
  sink: number;
  seq: number;
  /** The batch's records: `n` >= 0 is the message's line `n`, `-n` its large record `n - 1`. */
  rows: number[];
}

/** Forwarding thread → capture thread. */
export type ThreadRequest =
  /**
   * Batches written in the same turn of the event loop (a record that goes to a JSONL and a SQLite file is in
   * two of them, and encoded once).
   */
  | {
    type: "write";
    /**
     * The records as JSONL lines (recordJson), joined with newlines: one string crosses to the thread far more
     * cheaply than a structured clone of the records, and the JSONL sink writes it as it is.
     */
    lines: string;
    /** Records with large bodies, as objects: their encoding is left to the thread. */
    large?: CaptureRecord[];
    batches: ThreadBatch[];
  }
  | { type: "close"; seq: number; sink: number }
  | { type: "query"; seq: number; sink: number; sql: string; params: readonly SqlCell[] };

/** Why a write or close failed; `written` when a batch was cut short (the first records reached the file). */
export interface ThreadFailure {
  message: string;
  written?: number;
}

/** Capture thread → forwarding thread. */
export type ThreadReply =
  /** Every sink is open. Indexes refer to `sinks`. */
  | {
    type: "opened";
    sinks: string[];
    byProxy: [string, number[]][];
    paths: string[];
    readable: { jsonl: string[]; sqlite: number[] };
  }
  /** A sink could not be opened: start-up fails with this. */
  | { type: "failed"; message: string; code: string }
  /** A write or close finished. */
  | { type: "settled"; seq: number; failure?: ThreadFailure }
  | { type: "rows"; seq: number; rows?: SqlRow[]; failure?: ThreadFailure }
  /** A capture file was rotated: the forwarding thread archives it. */
  | { type: "rotated"; path: string }
  | { type: "log"; level: "debug" | "info" | "warn" | "error"; msg: string; fields?: LogFields };
