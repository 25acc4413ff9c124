/**
 * The forwarding thread's side of `--capture-thread`: sinks that hand each
 * batch (JSONL lines; records with large bodies as objects) to the capture
 * thread, which owns the real ones (capture-thread.ts), and resolve when it
 * is written, so the capture pipeline counts written and failed records as
 * before. A capture thread that dies is started again (counted); the batches
 * it had not confirmed are counted as write errors and forwarding never
 * waits for it.
 */
import { UnavailableError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { CaptureRecord } from "../shared/record.ts";
import type { Runtime, StartedThread } from "../runtime/types.ts";
import type { S3Uploader } from "../s3/uploader.ts";
import type { SqlCell, SqlRow } from "../sinks/sql-database.ts";
import type { RecordSink } from "../sinks/types.ts";
import { recordJson } from "../sinks/record-json.ts";
import { PartialWriteError } from "../sinks/write-errors.ts";
import type { LiveDatabase } from "../traces/sqlite-source.ts";
import type {
  CaptureThreadData,
  ThreadBatch,
  ThreadFailure,
  ThreadReply,
  ThreadRequest,
} from "./capture-thread-messages.ts";
import type { OpenSinks, SinkSettings } from "./sinks.ts";

/** What the capture thread needs from the forwarding thread. */
export interface ThreadSinkDependencies {
  runtime: Runtime;
  logger: Logger;
  /** The uploader rotated files are handed to; a function because it is created after the sinks. */
  uploader: () => Pick<S3Uploader, "enqueue"> | undefined;
  /** The program's main module, which the thread runs (src/cli/main.ts). */
  entry: string;
}

/** Longest wait before a capture thread that keeps dying is started again, ms. */
const MAX_RESTART_DELAY_MS = 10_000;

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
  /** Records of a write, for a partial failure's message. */
  records?: number;
}

type Opened = Extract<ThreadReply, { type: "opened" }>;

/** The capture thread, seen from the forwarding thread. */
export class CaptureThread {
  readonly #deps: ThreadSinkDependencies;
  readonly #settings: SinkSettings;
  #thread: StartedThread | undefined;
  #seq = 0;
  readonly #waiting = new Map<number, Waiter<unknown>>();
  /** Batches of this turn of the event loop, posted together. */
  #outgoing: { sink: number; seq: number; records: readonly CaptureRecord[] }[] = [];
  /** Messages held while a dead thread waits to be started again. */
  #held: ThreadRequest[] = [];
  #stopping = false;
  #openSinks = 0;
  #restartDelay = 0;
  /** Threads that died and were started again. */
  restarts = 0;

  private constructor(deps: ThreadSinkDependencies, settings: SinkSettings) {
    this.#deps = deps;
    this.#settings = settings;
  }

  /**
   * Starts the thread and opens every sink in it.
   * @throws UnavailableError naming the file when a sink cannot be opened
   */
  static async start(deps: ThreadSinkDependencies, settings: SinkSettings): Promise<OpenSinks> {
    const thread = new CaptureThread(deps, settings);
    const opened = await thread.#launch();
    return thread.#sinksOf(opened);
  }

  /** Starts a thread; resolves when its sinks are open. */
  #launch(): Promise<Opened> {
    const data: CaptureThreadData = { settings: this.#settings, attempt: this.restarts };
    const thread = this.#deps.runtime.threads.start(this.#deps.entry, data);
    this.#thread = thread;
    return new Promise<Opened>((resolve, reject) => {
      let opened = false;
      thread.onMessage((raw) => {
        const message = raw as ThreadReply;
        if (message.type === "opened") {
          opened = true;
          this.#restartDelay = 0;
          resolve(message);
        } else if (message.type === "failed") {
          reject(new UnavailableError(message.message, message.code));
          void thread.terminate();
        } else this.#receive(message);
      });
      thread.onExit((code) => {
        if (!opened) reject(new UnavailableError(`The capture thread stopped while starting (exit code ${code})`));
        else this.#died(thread, code);
      });
      for (const message of this.#held.splice(0)) thread.post(message);
    });
  }

  #sinksOf(opened: Opened): OpenSinks {
    this.#openSinks = opened.sinks.length;
    const all = opened.sinks.map((name, index) => new ThreadSink(name, opened.paths[index]!, index, this));
    return {
      all,
      byProxy: new Map(opened.byProxy.map(([proxy, indexes]) => [proxy, indexes.map((index) => all[index]!)])),
      paths: opened.paths,
      readable: {
        jsonl: opened.readable.jsonl,
        sqlite: opened.readable.sqlite.map((index) => all[index]!),
      },
      captureThreadRestarts: () => this.restarts,
    };
  }

  #receive(message: ThreadReply): void {
    switch (message.type) {
      case "settled":
      case "rows": {
        const waiter = this.#waiting.get(message.seq);
        if (!waiter) return;
        this.#waiting.delete(message.seq);
        if (message.failure) waiter.reject(failureError(message.failure, waiter.records ?? 0));
        else waiter.resolve(message.type === "rows" ? message.rows : undefined);
        return;
      }
      case "rotated":
        this.#deps.uploader()?.enqueue(message.path);
        return;
      case "log":
        this.#deps.logger[message.level](message.msg, message.fields);
    }
  }

  /** A thread ended that was not told to: what it had not written is lost (counted), and a new one starts. */
  #died(thread: StartedThread, code: number): void {
    if (this.#thread !== thread) return;
    this.#thread = undefined;
    const lost = new Error(`The capture thread stopped (exit code ${code}) before writing this batch`);
    for (const waiter of this.#waiting.values()) waiter.reject(lost);
    this.#waiting.clear();
    if (this.#stopping) return;
    this.restarts++;
    const delay = this.#restartDelay;
    this.#restartDelay = Math.min(Math.max(delay * 2, 250), MAX_RESTART_DELAY_MS);
    this.#deps.logger.error("The capture thread stopped; starting it again", { exit_code: code, delay_ms: delay });
    setTimeout(() => {
      this.#launch().catch((error: unknown) =>
        this.#deps.logger.error("Failed to start the capture thread again", { error })
      );
    }, delay);
  }

  #post(message: ThreadRequest): void {
    if (this.#thread) this.#thread.post(message);
    else this.#held.push(message);
  }

  #wait<T>(seq: number, records?: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(seq, { resolve: resolve as (value: unknown) => void, reject, records });
    });
  }

  /** Queues a batch for the thread; resolves once it is written. */
  write(sink: number, records: readonly CaptureRecord[]): Promise<void> {
    const seq = ++this.#seq;
    if (this.#outgoing.length === 0) queueMicrotask(() => this.#flush());
    this.#outgoing.push({ sink, seq, records });
    return this.#wait(seq, records.length);
  }

  #flush(): void {
    const outgoing = this.#outgoing;
    this.#outgoing = [];
    // One message; a record that two sinks (JSONL and SQLite) take crosses once.
    const rowOf = new Map<CaptureRecord, number>();
    const lines: string[] = [];
    const large: CaptureRecord[] = [];
    const batches: ThreadBatch[] = [];
    for (const { sink, seq, records } of outgoing) {
      try {
        const rows = records.map((record) => {
          let row = rowOf.get(record);
          if (row === undefined) {
            row = bulkOf(record) > LARGE_RECORD_CHARS ? -large.push(record) : lines.push(recordJson(record)) - 1;
            rowOf.set(record, row);
          }
          return row;
        });
        batches.push({ sink, seq, rows });
      } catch (error) {
        this.#settle(seq, error instanceof Error ? error : new Error(String(error)));
      }
    }
    if (batches.length === 0) return;
    this.#post({ type: "write", lines: lines.join("\n"), ...(large.length > 0 ? { large } : {}), batches });
  }

  /** Ends the wait for `seq` with `error`. */
  #settle(seq: number, error: Error): void {
    const waiter = this.#waiting.get(seq);
    this.#waiting.delete(seq);
    waiter?.reject(error);
  }

  query(sink: number, sql: string, params: readonly SqlCell[]): Promise<SqlRow[]> {
    const seq = ++this.#seq;
    this.#post({ type: "query", seq, sink, sql, params });
    return this.#wait(seq);
  }

  /** Closes one sink; when the last one is closed the thread ends. */
  async close(sink: number): Promise<void> {
    const seq = ++this.#seq;
    this.#post({ type: "close", seq, sink });
    try {
      await this.#wait(seq);
    } finally {
      if (--this.#openSinks === 0) {
        this.#stopping = true;
        await this.#thread?.terminate();
      }
    }
  }
}

/**
 * Body characters past which a record crosses as an object (structured clone)
 * instead of a JSONL line. Measured with --capture-thread (1 MiB GET, c32,
 * proxy on one core): as lines, Deno forwarded 260 req/s (JSON encoding of
 * the bodies stayed on the forwarding thread); as objects 372-402. At 1 KiB,
 * cloning objects cost Node ~20% of its throughput and lines nothing.
 */
const LARGE_RECORD_CHARS = 64 * 1024;

/** Characters of a record's bodies or payload: what dominates encoding it. */
function bulkOf(record: CaptureRecord): number {
  switch (record.type) {
    case "http":
      return (record.request.body?.length ?? 0) + (record.request.body_decoded?.length ?? 0) +
        (record.response?.body?.length ?? 0) + (record.response?.body_decoded?.length ?? 0);
    case "websocket_frame":
    case "grpc_message":
      return record.payload?.length ?? 0;
    case "sse_event":
      return record.data.length;
    default:
      return 0;
  }
}

function failureError(failure: ThreadFailure, records: number): Error {
  const cause = new Error(failure.message);
  return failure.written === undefined ? cause : new PartialWriteError(failure.written, records, cause);
}

/** A sink written in the capture thread; a SQLite one is also queried through it (the trace API). */
class ThreadSink implements RecordSink, LiveDatabase {
  readonly name: string;
  readonly path: string;
  readonly #index: number;
  readonly #thread: CaptureThread;

  constructor(name: string, path: string, index: number, thread: CaptureThread) {
    this.name = name;
    this.path = path;
    this.#index = index;
    this.#thread = thread;
  }

  writeBatch(records: readonly CaptureRecord[]): Promise<void> {
    return this.#thread.write(this.#index, records);
  }

  close(): Promise<void> {
    return this.#thread.close(this.#index);
  }

  query(sql: string, params: readonly SqlCell[]): Promise<SqlRow[]> {
    return this.#thread.query(this.#index, sql, params);
  }
}
