/**
 * A captured event stream played back: each event in the Server-Sent Events
 * wire format, at its original pace (`t_delta_ms`, the time since the
 * response started) or faster. Nothing is sent upstream.
 */
import type { SseEventRecord } from "../shared/record.ts";

/**
 * An event as it appears on the wire: `event:` (unless `message`), `id:`,
 * `retry:`, one `data:` line per line of data, and a blank line.
 *
 * @example
 * ```ts
 * sseWire({ event: "delta", data: "a\nb", ... }) // "event: delta\ndata: a\ndata: b\n\n"
 * ```
 */
export function sseWire(event: Pick<SseEventRecord, "event" | "data" | "id_field" | "retry">): string {
  let out = "";
  if (event.event !== "" && event.event !== "message") out += `event: ${oneLine(event.event)}\n`;
  if (event.id_field !== undefined) out += `id: ${oneLine(event.id_field)}\n`;
  if (event.retry !== undefined) out += `retry: ${event.retry}\n`;
  for (const line of event.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + "\n";
}

/** A field that must stay on one line (a captured name could hold a newline and forge events). */
const oneLine = (text: string) => text.replace(/[\r\n]/g, " ");

/** How fast to replay. */
export interface ReplayPace {
  /** 2 plays twice as fast; must be > 0. */
  speed: number;
  /** Send every event at once. */
  noDelay: boolean;
}

/**
 * Plays `events` (sorted by `t_delta_ms` here) through `write`, waiting
 * between them as captured, divided by the speed; stops early when `aborted`
 * says so (the client went away).
 */
export async function replayEvents(
  events: readonly SseEventRecord[],
  pace: ReplayPace,
  write: (text: string) => void | Promise<void>,
  options: { sleep?: (ms: number) => Promise<void>; aborted?: () => boolean } = {},
): Promise<number> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const ordered = [...events].sort((a, b) => a.t_delta_ms - b.t_delta_ms);
  const started = performance.now();
  let sent = 0;
  for (const event of ordered) {
    if (options.aborted?.()) break;
    if (!pace.noDelay) {
      // Against the start, not the previous event, so waits do not add up their overshoot.
      const due = event.t_delta_ms / pace.speed - (performance.now() - started);
      if (due > 0) await sleep(due);
    }
    await write(sseWire(event));
    sent++;
  }
  return sent;
}
