/**
 * Errors with a stable `code`, one type per layer. Messages are in sentence
 * case and name what failed and where. The CLI maps `exitCode` to the process
 * exit status (64 usage, 78 config, 69 unavailable, 70 internal).
 */

/** Base class of every error tapline raises on purpose. */
export class TaplineError extends Error {
  /** Stable machine-readable code, e.g. `config_invalid`. */
  readonly code: string;
  /** Process exit status the CLI uses for this error. */
  readonly exitCode: number;

  /** @param options.exitCode defaults to 70 (internal) */
  constructor(code: string, message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TaplineError";
    this.code = code;
    this.exitCode = options.exitCode ?? 70;
  }
}

/** Bad command-line usage (unknown flag, malformed `--proxy`). Exit 64. */
export class UsageError extends TaplineError {
  constructor(message: string, code = "usage") {
    super(code, message, { exitCode: 64 });
    this.name = "UsageError";
  }
}

/** Where in a config file a problem sits. */
export interface ConfigLocation {
  file?: string;
  line?: number;
  column?: number;
  /** Dotted field path, e.g. `proxies[1].upstream`. */
  field?: string;
}

/** Invalid configuration (YAML, environment or a semantic check). Exit 78. */
export class ConfigError extends TaplineError {
  readonly location: ConfigLocation;
  constructor(message: string, location: ConfigLocation = {}, code = "config_invalid") {
    super(code, message, { exitCode: 78 });
    this.name = "ConfigError";
    this.location = location;
  }
}

/** A listener or upstream that cannot be used (port in use, bad certificate). Exit 69. */
export class UnavailableError extends TaplineError {
  constructor(message: string, code = "unavailable", options?: { cause?: unknown }) {
    super(code, message, { ...options, exitCode: 69 });
    this.name = "UnavailableError";
  }
}

/** A listener that could not be opened; `address` is the one asked for, so a caller can name its flag. */
export class ListenFailedError extends UnavailableError {
  readonly address: string;
  constructor(message: string, address: string, options?: { cause?: unknown }) {
    super(message, "listen_failed", options);
    this.name = "ListenFailedError";
    this.address = address;
  }
}
