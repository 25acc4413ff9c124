/**
 * The capture thread's side of `--capture-thread`: it opens the sinks of
 * every proxy and writes the batches the forwarding thread sends, one chain
 * of writes per sink so each file keeps its order. It logs through the
 * forwarding thread (one writer of stderr) and answers the trace API's
 * queries of a live SQLite database.
 */
import { describeError } from "../shared/describe-error.ts";
import { TaplineError } from "../shared/errors.ts";
import type { LogFields, Logger } from "../shared/logger.ts";
import type { CaptureRecord } from "../shared/record.ts";
import type { Runtime, ThreadChannel } from "../runtime/types.ts";
import type { LiveDatabase } from "../traces/sqlite-source.ts";
import { PartialWriteError } from "../sinks/write-errors.ts";
import type { RecordSink } from "../sinks/types.ts";
import { recordJson } from "../sinks/record-json.ts";
import type { CaptureThreadData, ThreadFailure, ThreadReply, ThreadRequest } from "./capture-thread-messages.ts";
import { openSinks } from "./sinks.ts";

/**
 * A fault for tests: `exit-after:N` ends the first capture thread with an
 * uncaught error after its Nth write message, as a crash would.
 */
export const CAPTURE_THREAD_FAULT_ENV = "TAPLINE_INTERNAL_CAPTURE_THREAD_FAULT";

/** Serves the forwarding thread until it ends this thread. */
export async function serveCaptureThread(runtime: Runtime, parent: ThreadChannel & { data: unknown }): Promise<void> {
  const { settings, attempt } = parent.data as CaptureThreadData;
  const post = (message: ThreadReply) => parent.post(message);
  const logger = forwardingLogger(post);
  const exitAfter = attempt === 0 ? faultAfter(runtime.env()[CAPTURE_THREAD_FAULT_ENV]) : undefined;
  let writes = 0;

  const opening = openSinks(settings, {
    runtime,
    logger,
    uploader: () => ({ enqueue: (path: string) => post({ type: "rotated", path }) }),
  });
  // Messages are handled in arrival order once the sinks are open (each `then` on one promise runs in turn).
  const ready = opening.then((sinks) => sinks.all, () => undefined);
  const chains = new Map<RecordSink, Promise<void>>();
  /** Runs `task` after the sink's earlier writes and reports how it went. */
  const settle = (sink: RecordSink, seq: number, task: () => Promise<void>) => {
    const next = (chains.get(sink) ?? Promise.resolve()).then(task).then(
      () => post({ type: "settled", seq }),
      (error: unknown) => post({ type: "settled", seq, failure: failureOf(error) }),
    );
    chains.set(sink, next);
  };

  parent.onMessage((raw) => {
    void ready.then(async (all) => {
      if (all === undefined) return;
      const message = raw as ThreadRequest;
      switch (message.type) {
        case "write": {
          const lines = message.lines.split("\n");
          const large = message.large ?? [];
          // Parsed once, and only for sinks that need records (SQLite); JSONL writes the lines themselves.
          const parsed: CaptureRecord[] = [];
          const recordAt = (row: number) =>
            row < 0 ? large[-row - 1]! : (parsed[row] ??= JSON.parse(lines[row]!) as CaptureRecord);
          const lineAt = (row: number) => (row < 0 ? recordJson(large[-row - 1]!) : lines[row]!);
          for (const { sink, seq, rows } of message.batches) {
            const target = all[sink]!;
            settle(
              target,
              seq,
              () => target.writeLines ? target.writeLines(rows.map(lineAt)) : target.writeBatch(rows.map(recordAt)),
            );
          }
          if (exitAfter !== undefined && ++writes >= exitAfter) {
            setTimeout(() => {
              throw new Error(`${CAPTURE_THREAD_FAULT_ENV}: the capture thread ends after ${writes} writes`);
            }, 0);
          }
          return;
        }
        case "close":
          return settle(all[message.sink]!, message.seq, () => all[message.sink]!.close());
        case "query":
          try {
            const rows = await (all[message.sink] as unknown as LiveDatabase).query(message.sql, message.params);
            post({ type: "rows", seq: message.seq, rows });
          } catch (error) {
            post({ type: "rows", seq: message.seq, failure: failureOf(error) });
          }
      }
    });
  });

  try {
    const sinks = await opening;
    const indexOf = new Map(sinks.all.map((sink, index) => [sink, index]));
    post({
      type: "opened",
      sinks: sinks.all.map((sink) => sink.name),
      byProxy: [...sinks.byProxy].map(([name, list]) => [name, list.map((sink) => indexOf.get(sink)!)]),
      paths: sinks.paths,
      readable: {
        jsonl: sinks.readable.jsonl,
        sqlite: sinks.readable.sqlite.map((db) => indexOf.get(db as unknown as RecordSink)!),
      },
    });
  } catch (error) {
    post({
      type: "failed",
      message: describeError(error),
      code: error instanceof TaplineError ? error.code : "sink_unavailable",
    });
  }
}

function failureOf(error: unknown): ThreadFailure {
  return error instanceof PartialWriteError
    ? { message: describeError(error.cause ?? error), written: error.written }
    : { message: describeError(error) };
}

function faultAfter(value: string | undefined): number | undefined {
  const match = value === undefined ? null : /^exit-after:(\d+)$/.exec(value);
  return match ? Number(match[1]) : undefined;
}

/** A logger whose lines the forwarding thread writes (errors made plain: they travel as text). */
function forwardingLogger(post: (message: ThreadReply) => void): Logger {
  const send = (level: "debug" | "info" | "warn" | "error") => (msg: string, fields?: LogFields) => {
    let plain: LogFields | undefined;
    if (fields !== undefined) {
      plain = {};
      for (const [key, value] of Object.entries(fields)) {
        plain[key] = value instanceof Error ? describeError(value) : value;
      }
    }
    post({ type: "log", level, msg, ...(plain === undefined ? {} : { fields: plain }) });
  };
  return { debug: send("debug"), info: send("info"), warn: send("warn"), error: send("error") };
}
