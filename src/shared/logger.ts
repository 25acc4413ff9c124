/**
 * Structured logging: one JSON object per line on stderr by default, or a
 * human-readable line with `--log-format text`.
 */
import { describeError } from "./describe-error.ts";

/** Least severe level written. */
export type LogLevel = "debug" | "info" | "warn" | "error";
/** `json`: one object per line (default); `text`: for people. */
export type LogFormat = "json" | "text";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Extra fields of a log event; `Error` values are reduced to a one-line description (see describeError). */
export type LogFields = Record<string, unknown>;

/** A leveled logger. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

function plain(value: unknown): unknown {
  if (value instanceof Error) return describeError(value);
  return value;
}

/**
 * Creates a logger writing through `write` (one call per line, no newline).
 *
 * @example
 * const log = createLogger("info", "json", (line) => console.error(line));
 * log.info("listening", { kind: "proxy", address: "127.0.0.1:8080" });
 */
export function createLogger(level: LogLevel, format: LogFormat, write: (line: string) => void): Logger {
  const threshold = LEVELS[level];
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (LEVELS[lvl] < threshold) return;
    const time = new Date().toISOString();
    if (format === "json") {
      const event: Record<string, unknown> = { time, level: lvl, msg };
      if (fields) { for (const key in fields) event[key] = plain(fields[key]); }
      write(JSON.stringify(event));
    } else {
      let line = `${time} ${lvl.toUpperCase().padEnd(5)} ${msg}`;
      if (fields) { for (const key in fields) line += ` ${key}=${JSON.stringify(plain(fields[key]))}`; }
      write(line);
    }
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
  };
}
