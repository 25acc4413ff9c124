/**
 * `tapline inspect [--filter EXPR] [--json] FILES...`: what capture files
 * (JSONL or SQLite) hold, without a running tapline. Progress on a terminal.
 */
import type { Runtime } from "../runtime/types.ts";
import { UsageError } from "../shared/errors.ts";
import { captureFormat, readCaptureFile } from "../traces/capture-files.ts";
import { compileFilter } from "../traces/filter/filter.ts";
import { formatSummary, InspectAccumulator } from "../traces/inspect.ts";
import { parseCommandArgs } from "./command-args.ts";
import { progressDrawer } from "./progress.ts";

export const INSPECT_USAGE = "tapline inspect [--filter EXPR] [--json] FILE...";

/** Runs `tapline inspect ARGS`; returns the exit code. */
export async function runInspectCommand(argv: readonly string[], runtime: Runtime): Promise<number> {
  const { flags, positional: files } = parseCommandArgs(argv, { filter: "string", json: "boolean" }, INSPECT_USAGE);
  if (files.length === 0) throw new UsageError(`Missing the capture files to inspect. Usage: ${INSPECT_USAGE}`);
  const filter = compileFilter(typeof flags["filter"] === "string" ? flags["filter"] : "");
  const progress = progressDrawer(runtime, files.length);
  const summary = new InspectAccumulator();
  for (const [fileIndex, file] of files.entries()) {
    summary.file(file, await captureFormat(runtime.fs, file));
    let records = 0;
    for await (
      const { record } of readCaptureFile(runtime.fs, file, {
        onSkip: (skipped) => {
          summary.skip();
          progress.warn(`tapline: warning: skipped ${skipped.file}:${skipped.line}: ${skipped.reason}`);
        },
        onProgress: (read, size) => progress.draw({ file, fileIndex, fraction: size === 0 ? 1 : read / size, records }),
      })
    ) {
      records++;
      if (filter.matchesAll || filter.matches(record)) summary.add(record);
    }
  }
  progress.done();
  const result = summary.summary();
  runtime.writeStdout(flags["json"] ? JSON.stringify(result, null, 2) + "\n" : formatSummary(result));
  return 0;
}
