/**
 * `tapline tail`: live captured records from a running tapline's admin API
 * (`GET /api/tail`), as a table in the spirit of Inspektor Gadget's
 * trace_http (TIMESTAMP ROUTE SRC METHOD HOST PATH STATUS LATENCY SIZE) or,
 * with `--json`, one record per line. Colors only on a terminal and never
 * with NO_COLOR; captured values are printed with control characters
 * escaped.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { parseDuration } from "../config/duration.ts";
import type { Runtime } from "../runtime/types.ts";
import { describeError } from "../shared/describe-error.ts";
import { UnavailableError, UsageError } from "../shared/errors.ts";
import type { CaptureRecord } from "../shared/record.ts";
import { compileFilter } from "../traces/filter/filter.ts";
import { TAIL_RING_RECORDS } from "../traces/tail.ts";
import { formatBytes, safe } from "../traces/inspect.ts";
import { clientToken } from "./client-token.ts";
import { parseCommandArgs } from "./command-args.ts";
import { DEFAULT_ADMIN_URL } from "./plugins-command.ts";

export const TAIL_USAGE =
  "tapline tail [--filter EXPR] [--min-latency 500ms] [--last N] [--json] [--admin URL] [--token-file F]";

/** Column widths of the table (the last column takes what it needs). */
const COLUMNS: [string, number][] = [
  ["TIMESTAMP", 12],
  ["ROUTE", 10],
  ["SRC", 21],
  ["METHOD", 7],
  ["HOST", 20],
  ["PATH", 32],
  ["STATUS", 6],
  ["LATENCY", 10],
  ["SIZE", 9],
];

const COLORS: Record<string, string> = { "2": "\x1b[32m", "3": "\x1b[36m", "4": "\x1b[33m", "5": "\x1b[31m" };
const RESET = "\x1b[0m";

function cell(text: string, width: number): string {
  const clean = safe(text);
  return clean.length > width ? clean.slice(0, width - 1) + "…" : clean.padEnd(width);
}

/** The table row of a record. */
export function tailRow(record: CaptureRecord, color: boolean): string {
  const time = record.timestamp.slice(11, 23);
  let values: string[];
  let status = "";
  switch (record.type) {
    case "http": {
      const host = Object.entries(record.request.headers).find(([name]) => name.toLowerCase() === "host")?.[1][0];
      status = record.response ? String(record.response.status) : record.error ? "ERR" : "-";
      values = [
        time,
        record.route_name,
        record.client_ip,
        record.request.method,
        host ?? "",
        record.request.url,
        status,
        `${record.duration_ms.toFixed(1)}ms`,
        formatBytes(record.response?.body_size ?? 0),
      ];
      break;
    }
    case "websocket_frame":
      values = [
        time,
        record.route_name,
        "",
        record.direction === "client_to_server" ? "WS >" : "WS <",
        "",
        record.opcode_name,
        "",
        "",
        formatBytes(record.payload_size),
      ];
      break;
    case "sse_event":
      values = [
        time,
        record.route_name,
        "",
        "SSE",
        "",
        record.event,
        "",
        `+${record.t_delta_ms}ms`,
        formatBytes(record.data.length),
      ];
      break;
    case "grpc_message":
      values = [
        time,
        record.route_name,
        "",
        record.direction === "client_to_server" ? "GRPC >" : "GRPC <",
        "",
        `#${record.seq}`,
        "",
        `+${record.t_delta_ms}ms`,
        formatBytes(record.payload_size),
      ];
      break;
    default:
      values = [time, String(record.route_name), "", "CUSTOM", "", String(record.plugin ?? ""), "", "", ""];
  }
  const cells = values.map((value, i) => cell(value, COLUMNS[i]![1]));
  if (color && status !== "") {
    const code = COLORS[status[0]!] ?? (status === "ERR" ? COLORS["5"]! : "");
    if (code) cells[6] = code + cells[6] + RESET;
  }
  return cells.join(" ").trimEnd();
}

/** Runs `tapline tail ARGS` until the stream ends; returns the exit code. */
export async function runTailCommand(argv: readonly string[], runtime: Runtime): Promise<number> {
  const { flags, positional } = parseCommandArgs(
    argv,
    {
      filter: "string",
      "min-latency": "string",
      last: "string",
      json: "boolean",
      admin: "string",
      "token-file": "string",
    },
    TAIL_USAGE,
  );
  if (positional.length > 0) throw new UsageError(`Unexpected argument "${positional[0]}". Usage: ${TAIL_USAGE}`);
  let filter = typeof flags["filter"] === "string" ? flags["filter"] : "";
  if (typeof flags["min-latency"] === "string") {
    let ms: number;
    try {
      ms = parseDuration(flags["min-latency"]);
    } catch (error) {
      throw new UsageError(`--min-latency: ${describeError(error)}. Usage: ${TAIL_USAGE}`);
    }
    filter = filter.trim() === "" ? `~d >=${ms}ms` : `(${filter}) & ~d >=${ms}ms`;
  }
  // Checked here too, so a mistake is reported with its column before connecting.
  compileFilter(filter);
  const last = typeof flags["last"] === "string" ? lastCount(flags["last"]) : 0;
  const admin = (typeof flags["admin"] === "string" ? flags["admin"] : DEFAULT_ADMIN_URL).replace(/\/+$/, "");
  const token = await clientToken(typeof flags["token-file"] === "string" ? flags["token-file"] : undefined, runtime);
  const json = flags["json"] === true;
  const env = runtime.env();
  const color = !json && runtime.stdoutIsTerminal() && env["NO_COLOR"] === undefined;

  if (!json) runtime.writeStdout(TAIL_HEADER + "\n");
  await followTail({
    admin,
    token,
    filter,
    backlog: last,
    onRecord: (data) => runtime.writeStdout((json ? data : tailRow(JSON.parse(data) as CaptureRecord, color)) + "\n"),
    onNotice: (text) => runtime.writeStderr(`tapline: ${text}\n`),
  });
  runtime.writeStderr("tapline: the tail ended (tapline stopped)\n");
  return 0;
}

/** `--last N`: how many recent records to print first, as many as the server keeps at most. */
function lastCount(text: string): number {
  const count = Number(text);
  if (!/^\d+$/.test(text) || count > TAIL_RING_RECORDS) {
    throw new UsageError(
      `--last must be a whole number from 0 to ${TAIL_RING_RECORDS} (got "${safe(text)}"). Usage: ${TAIL_USAGE}`,
    );
  }
  return count;
}

/** The table's header line. */
export const TAIL_HEADER = COLUMNS.map(([name, width]) => name.padEnd(width)).join(" ").trimEnd();

/** Where to follow a tail and what to do with it. */
export interface FollowTail {
  /** Admin API base URL, without a trailing slash. */
  admin: string;
  token: string | undefined;
  filter: string;
  /** Recent records to get first, from those the server keeps (0: only new ones). */
  backlog?: number;
  /** Each record, as the JSON text the API sent. */
  onRecord(data: string): void;
  /** A record drop or a gap, in words. */
  onNotice(text: string): void;
  signal?: AbortSignal;
}

/**
 * Follows `GET /api/tail` until the stream ends (tapline stopped) or `signal` aborts.
 * @throws UnavailableError when the admin API cannot be reached or refuses.
 */
export async function followTail(options: FollowTail): Promise<void> {
  const { admin, token } = options;
  let response: Response;
  try {
    const backlog = options.backlog ? `&backlog=${options.backlog}` : "";
    response = await fetch(`${admin}/api/tail?q=${encodeURIComponent(options.filter)}${backlog}`, {
      headers: { accept: "text/event-stream", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    throw new UnavailableError(`Cannot reach the admin API at ${admin}: ${describeError(error)}`);
  }
  if (!response.ok || response.body === null) {
    const text = await response.text().catch(() => "");
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch { /* not JSON */ }
    throw new UnavailableError(`The admin API answered ${response.status}: ${safe(message)}`);
  }
  const parser = createParser({
    onEvent(event: EventSourceMessage) {
      if (event.event === "dropped") {
        const count = (JSON.parse(event.data) as { count?: number }).count ?? 0;
        options.onNotice(`${count} records dropped: this tail fell behind`);
        return;
      }
      if (event.event === "gap") {
        options.onNotice("some records may be missing (resumed too late)");
        return;
      }
      if (event.event !== undefined && event.event !== "message") return;
      options.onRecord(event.data);
    },
  });
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } catch (error) {
    if (!options.signal?.aborted) throw error;
  }
}
