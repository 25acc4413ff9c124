/**
 * `tapline export --format har|jsonl|parquet [--filter EXPR] [-o OUT] FILES...`:
 * capture files (JSONL or SQLite) as HAR 1.2, JSONL or Parquet, offline. The
 * output is written beside OUT and renamed into place at the end, so a
 * failed export never leaves half a file; without `-o` HAR and JSONL go to
 * stdout (Parquet, a binary file, needs `-o`).
 */
import type { Runtime } from "../runtime/types.ts";
import { UsageError } from "../shared/errors.ts";
import type { CaptureRecord, HttpRecord, WebSocketFrameRecord } from "../shared/record.ts";
import { shown } from "../shared/shown-value.ts";
import { parquetFile } from "../traces/parquet.ts";
import { recordJson } from "../sinks/record-json.ts";
import { readCaptureFiles } from "../traces/capture-files.ts";
import { compileFilter } from "../traces/filter/filter.ts";
import { HAR_END, harEntry, harStart } from "../traces/har.ts";
import { VERSION } from "../version.ts";
import { parseCommandArgs } from "./command-args.ts";
import { progressDrawer } from "./progress.ts";

export const EXPORT_USAGE = "tapline export --format har|jsonl|parquet [--filter EXPR] [-o OUT] [--force] FILE...";

/** Text written to the output at once, at most. */
const WRITE_BYTES = 256 * 1024;

/** Runs `tapline export ARGS`; returns the exit code. */
export async function runExportCommand(argv: readonly string[], runtime: Runtime): Promise<number> {
  const { flags, positional: files } = parseCommandArgs(
    argv,
    { format: "string", filter: "string", output: "string", force: "boolean" },
    EXPORT_USAGE,
    { "-o": "--output" },
  );
  const format = flags["format"];
  if (format !== "har" && format !== "jsonl" && format !== "parquet") {
    throw new UsageError(
      `--format must be har, jsonl or parquet${format ? `, not ${shown(format)}` : ""}. Usage: ${EXPORT_USAGE}`,
    );
  }
  if (files.length === 0) throw new UsageError(`Missing the capture files to export. Usage: ${EXPORT_USAGE}`);
  const filter = compileFilter(typeof flags["filter"] === "string" ? flags["filter"] : "");
  const output = typeof flags["output"] === "string" ? flags["output"] : undefined;
  if (output !== undefined && files.includes(output)) {
    throw new UsageError(`The output "${output}" is also given as a capture file`);
  }
  if (output !== undefined && !flags["force"] && (await runtime.fs.size(output)) !== undefined) {
    throw new UsageError(`Output "${output}" already exists: pass --force to replace it`);
  }
  if (format === "parquet" && output === undefined) {
    throw new UsageError(`--format parquet writes a binary file: give it with -o FILE. Usage: ${EXPORT_USAGE}`);
  }
  const fs = runtime.fs;
  const temporary = output === undefined ? undefined : `${output}.export-${Date.now()}.tmp`;
  // Parquet is written whole at the end (atomically); the text formats stream into the temporary file.
  const file = temporary === undefined || format === "parquet" ? undefined : await fs.openAppend(temporary);
  let buffered = "";
  const write = async (text: string, force = false) => {
    buffered += text;
    if (!force && buffered.length < WRITE_BYTES) return;
    if (file) await file.append(buffered);
    else runtime.writeStdout(buffered);
    buffered = "";
  };
  let exported = 0;
  try {
    const progress = progressDrawer(runtime, files.length);
    const read = (onFile?: (file: string, index: number) => void) => {
      let current = { file: "", fileIndex: 0 };
      return readCaptureFiles(fs, files, {
        onFile: (name, index) => {
          current = { file: name, fileIndex: index };
          onFile?.(name, index);
        },
        onSkip: (s) => progress.warn(`tapline: warning: skipped ${s.file}:${s.line}: ${s.reason}`),
        onProgress: (done, size) =>
          progress.draw({ ...current, fraction: size === 0 ? 1 : done / size, records: exported }),
      });
    };
    if (format === "parquet") {
      const records: CaptureRecord[] = [];
      for await (const { record } of read()) {
        if (!filter.matchesAll && !filter.matches(record)) continue;
        records.push(record);
        exported++;
      }
      await fs.writeFileAtomic(output!, parquetFile(records));
    } else if (format === "jsonl") {
      for await (const { record } of read()) {
        if (!filter.matchesAll && !filter.matches(record)) continue;
        await write(recordJson(record) + "\n");
        exported++;
      }
    } else {
      // Frames belong to their upgrade exchange's entry, wherever they are in the files: a first pass collects them.
      const frames = new Map<string, WebSocketFrameRecord[]>();
      for await (const { record } of read()) {
        if (record.type !== "websocket_frame") continue;
        const list = frames.get(record.connection_id);
        if (list) list.push(record);
        else frames.set(record.connection_id, [record]);
      }
      await write(harStart(VERSION));
      for await (const { record } of read()) {
        if (record.type !== "http" || (!filter.matchesAll && !filter.matches(record))) continue;
        const entry = harEntry(record as HttpRecord, frames.get(record.id));
        await write((exported === 0 ? "" : ",") + JSON.stringify(entry));
        exported++;
      }
      await write(HAR_END);
    }
    await write("", true);
    progress.done();
    if (file && temporary && output) {
      await file.close();
      await fs.rename(temporary, output);
    }
  } catch (error) {
    if (file && temporary) {
      await file.close().catch(() => {});
      await fs.remove(temporary);
    }
    throw error;
  }
  if (output !== undefined) {
    runtime.writeStderr(
      `Exported ${exported.toLocaleString("en-US")} ${format === "har" ? "entries" : "records"} to ${output}\n`,
    );
  }
  return 0;
}
