/**
 * `tapline replay ID [--speed N] [--no-delay] FILES...`: prints a captured
 * event stream (the exchange ID, or any of its events' ids) in the
 * Server-Sent Events format, with its original pacing.
 */
import type { Runtime } from "../runtime/types.ts";
import { UsageError } from "../shared/errors.ts";
import type { SseEventRecord } from "../shared/record.ts";
import { readCaptureFiles } from "../traces/capture-files.ts";
import { replayEvents } from "../traces/replay.ts";
import { parseCommandArgs } from "./command-args.ts";

export const REPLAY_USAGE = "tapline replay ID [--speed N] [--no-delay] FILE...";

/** Runs `tapline replay ARGS`; returns the exit code. */
export async function runReplayCommand(argv: readonly string[], runtime: Runtime): Promise<number> {
  const { flags, positional } = parseCommandArgs(argv, { speed: "string", "no-delay": "boolean" }, REPLAY_USAGE);
  const [id, ...files] = positional;
  if (id === undefined || files.length === 0) {
    throw new UsageError(`Missing the ${id === undefined ? "exchange id" : "capture files"}. Usage: ${REPLAY_USAGE}`);
  }
  const speed = flags["speed"] === undefined ? 1 : Number(flags["speed"]);
  if (!Number.isFinite(speed) || speed <= 0) {
    throw new UsageError(`--speed must be a number above 0, not "${flags["speed"]}". Usage: ${REPLAY_USAGE}`);
  }
  // One stream's events in memory at most: the id is usually the exchange's; when it is an event's, a
  // second pass collects the events of that event's exchange.
  let exchange: string | undefined;
  let isStream = false;
  let events: SseEventRecord[] = [];
  for await (const { record } of readCaptureFiles(runtime.fs, files)) {
    if (record.type === "http" && record.id === id) {
      exchange = id;
      isStream = record.sse_events !== undefined && record.sse_events >= 0;
    } else if (record.type === "sse_event") {
      if (record.connection_id === id) events.push(record);
      else if (record.id === id) exchange = record.connection_id;
    }
  }
  if (exchange === undefined && events.length > 0) exchange = id;
  if (exchange === undefined) throw new UsageError(`No exchange or event with id "${id}" in ${files.join(", ")}`);
  if (exchange !== id) {
    events = [];
    for await (const { record } of readCaptureFiles(runtime.fs, files)) {
      if (record.type === "sse_event" && record.connection_id === exchange) events.push(record);
    }
  }
  if (events.length === 0 && !isStream) {
    throw new UsageError(`Exchange "${exchange}" is not an event stream (no sse_event records belong to it)`);
  }
  await replayEvents(events, { speed, noDelay: flags["no-delay"] === true }, (text) => runtime.writeStdout(text));
  return 0;
}
