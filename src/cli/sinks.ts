/**
 * Opens the capture sinks of every proxy: one JSONL and/or one SQLite sink
 * per distinct file, shared by the proxies that name the same file, each
 * rotating by size and interval and handing rotated files to S3 when set.
 */
import type { LiveDatabase } from "../traces/sqlite-source.ts";
import type { Config, ProxyConfig } from "../config/types.ts";
import { describeError } from "../shared/describe-error.ts";
import { UnavailableError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { Runtime } from "../runtime/types.ts";
import type { S3Uploader } from "../s3/uploader.ts";
import { JsonlSink } from "../sinks/jsonl.ts";
import { RotatingSqliteSink } from "../sinks/rotating-sqlite-sink.ts";
import { SqliteSink } from "../sinks/sqlite-sink.ts";
import { NativeSqliteSink } from "../sinks/native-sqlite-sink.ts";
import type { RecordSink } from "../sinks/types.ts";

/** The sinks of a process. */
export interface OpenSinks {
  /** The sinks each proxy writes to, by proxy name. */
  byProxy: Map<string, RecordSink[]>;
  /** Every sink once, in the order opened. */
  all: RecordSink[];
  /** Live file paths, for the S3 scan of rotated files. */
  paths: string[];
  /** What the trace API reads: each proxy's SQLite database when it has one, else its JSONL file. */
  readable: { jsonl: string[]; sqlite: LiveDatabase[] };
  /** With `--capture-thread`: how many times the capture thread died and was started again. */
  captureThreadRestarts?: () => number;
}

/** The settings {@link openSinks} reads: plain data, so the capture thread can be given them. */
export type SinkSettings =
  & Pick<Config, "rotateSize" | "rotateInterval" | "retention" | "s3Bucket" | "sqliteEngine" | "sqliteFlush">
  & { proxies: readonly Pick<ProxyConfig, "name" | "logJsonl" | "logSqlite">[] };

/** The sink settings of `config`, without the rest of it. */
export function sinkSettings(config: Config): SinkSettings {
  const { rotateSize, rotateInterval, retention, s3Bucket, sqliteEngine, sqliteFlush } = config;
  return {
    rotateSize,
    rotateInterval,
    retention,
    s3Bucket,
    sqliteEngine,
    sqliteFlush,
    proxies: config.proxies.map(({ name, logJsonl, logSqlite }) => ({ name, logJsonl, logSqlite })),
  };
}

/** What {@link openSinks} needs besides the config. */
export interface SinkDependencies {
  runtime: Runtime;
  logger: Logger;
  /** The uploader rotated files are handed to; a function because it is created after the sinks. */
  uploader: () => Pick<S3Uploader, "enqueue"> | undefined;
}

/** Opens every sink; a file that cannot be opened fails start-up with its path and proxy. */
export async function openSinks(
  config: SinkSettings,
  { runtime, logger, uploader }: SinkDependencies,
): Promise<OpenSinks> {
  const rotation = { maxBytes: config.rotateSize, intervalMs: config.rotateInterval };
  const archiving = config.s3Bucket !== undefined;
  const common = {
    // With S3, uploaded files are deleted after upload instead; retention must never delete unarchived ones.
    retention: archiving ? undefined : config.retention,
    onRotated: (path: string) => {
      logger.info("rotated", { file: path });
      uploader()?.enqueue(path);
    },
  };
  const byPath = new Map<string, RecordSink>();
  const open: OpenSinks = { byProxy: new Map(), all: [], paths: [], readable: { jsonl: [], sqlite: [] } };

  const sinkFor = async (
    proxy: SinkSettings["proxies"][number],
    path: string,
    kind: "JSONL" | "SQLite",
  ): Promise<RecordSink> => {
    const existing = byPath.get(path);
    if (existing) return existing;
    const onError = (error: unknown) => logger.error("Capture file rotation failed", { file: path, error });
    let sink: RecordSink & { open(): Promise<void> };
    if (kind === "JSONL") {
      sink = new JsonlSink(path, runtime.fs, { rotation, ...common, onError });
    } else {
      const database = config.sqliteEngine === "native"
        ? new NativeSqliteSink(path, runtime.fs, (file) => runtime.openNativeSqlite(file), {
          // A commit four times a second costs little (the WAL grows by the pages a group touched).
          commitIntervalMs: Math.min(config.sqliteFlush, 250),
          onError,
        })
        : new SqliteSink(path, runtime.fs, { flushIntervalMs: config.sqliteFlush, onError });
      sink = new RotatingSqliteSink(database, runtime.fs, { rotation, ...common, onError });
    }
    try {
      await sink.open();
    } catch (error) {
      throw new UnavailableError(
        `Failed to open the ${kind} log "${path}" of proxy "${proxy.name}": ${describeError(error)}`,
        "sink_unavailable",
        { cause: error },
      );
    }
    byPath.set(path, sink);
    open.all.push(sink);
    open.paths.push(path);
    return sink;
  };

  try {
    for (const proxy of config.proxies) {
      const sinks: RecordSink[] = [];
      if (proxy.logJsonl !== undefined) sinks.push(await sinkFor(proxy, proxy.logJsonl, "JSONL"));
      if (proxy.logSqlite !== undefined) sinks.push(await sinkFor(proxy, proxy.logSqlite, "SQLite"));
      open.byProxy.set(proxy.name, sinks);
      // The live database has every row at once; JSONL is read when a proxy has no database.
      const database = proxy.logSqlite === undefined ? undefined : byPath.get(proxy.logSqlite);
      if (database instanceof RotatingSqliteSink) {
        if (!open.readable.sqlite.includes(database)) open.readable.sqlite.push(database);
      } else if (proxy.logJsonl !== undefined && !open.readable.jsonl.includes(proxy.logJsonl)) {
        open.readable.jsonl.push(proxy.logJsonl);
      }
    }
  } catch (error) {
    await Promise.all(open.all.map((sink) => sink.close().catch(() => {})));
    throw error;
  }
  return open;
}
