/** The `tapline reindex` command line: progress on a terminal, a summary always. */
import type { Runtime } from "../runtime/types.ts";
import { SqliteSink } from "../sinks/sqlite-sink.ts";
import { progressDrawer } from "./progress.ts";
import { parseReindexArgs, reindex } from "./reindex.ts";

/** Runs `tapline reindex ARGS`; returns the exit code (errors are thrown for main to report). */
export async function runReindexCommand(argv: readonly string[], runtime: Runtime): Promise<number> {
  const args = parseReindexArgs(argv);
  const progress = progressDrawer(runtime, args.files.length);
  const summary = await reindex(args, {
    fs: runtime.fs,
    // No timer: the database is written once, when the sink closes.
    createSink: (path) => new SqliteSink(path, runtime.fs, { flushIntervalMs: 0 }),
    onProgress: (state) => progress.draw(state),
    onSkip: (skipped) => progress.warn(`tapline: warning: skipped ${skipped.file}:${skipped.line}: ${skipped.reason}`),
  });
  progress.done();
  runtime.writeStdout(
    `Rebuilt ${args.database} from ${summary.files} JSONL file${summary.files === 1 ? "" : "s"}: ` +
      `${summary.records} records, ${summary.skipped.length} line${summary.skipped.length === 1 ? "" : "s"} skipped\n`,
  );
  return 0;
}
