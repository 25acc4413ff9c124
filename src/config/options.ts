/**
 * The global settings, one row each: how the flag, the `TAPLINE_*` variable
 * and the YAML key are spelled, how a value is parsed, and its default.
 * flags.ts, env.ts, yaml.ts and the help text all read this table, so a new
 * setting is added here once.
 */
import { parseDuration } from "./duration.ts";
import { parseListen } from "./listen.ts";
import { parseSize } from "./size.ts";
import type { Config } from "./types.ts";
import type { LogFormat, LogLevel } from "../shared/logger.ts";
import { shown } from "../shared/shown-value.ts";

/** Every Config field except the lists, which only some sources set (see ConfigLayer). */
export type Globals = Omit<
  Config,
  "proxies" | "plugins" | "adminTokens" | "adminAllowedHosts" | "trustedKeys" | "grpcDescriptors"
>;
export type GlobalKey = keyof Globals;

export type OptionKind =
  | "size"
  | "duration"
  | "int"
  | "count-or-unlimited"
  | "bool"
  | "string"
  | "url"
  | "path"
  | "listen"
  | "workers"
  | "enum";

export interface GlobalOption {
  key: GlobalKey;
  /** Flag name without dashes, e.g. `max-body-size`. */
  flag: string;
  kind: OptionKind;
  /** Allowed values for `enum`. */
  choices?: readonly string[];
  /** Default as shown in `--help`; `undefined` when there is none. */
  defaultText?: string;
  /** Placeholder in `--help`, e.g. `SIZE`. */
  metavar: string;
  description: string;
  /** Where the YAML value sits when it is not the top-level `yamlKey(flag)`, e.g. `["admin", "token_file"]`. */
  yamlPath?: readonly string[];
}

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
export const LOG_FORMATS: readonly LogFormat[] = ["json", "text"];
export const SQLITE_ENGINES = ["sqljs", "native"] as const;
/** Most `--workers`: more processes than this would only contend for the same cores. */
export const MAX_WORKERS = 64;
/** Where tapline keeps its own files when `--data-dir` is not given (relative to the working directory). */
export const DEFAULT_DATA_DIR = "./data";

export const GLOBAL_OPTIONS: readonly GlobalOption[] = [
  {
    key: "listenAdmin",
    flag: "listen-admin",
    kind: "listen",
    metavar: "ADDR",
    description: "Admin listener for health, metrics and the token-protected API, e.g. :9090 (none by default)",
  },
  {
    key: "adminTokenFile",
    flag: "admin-token-file",
    kind: "string",
    metavar: "FILE",
    yamlPath: ["admin", "token_file"],
    description: "Admin API tokens, one a line: TOKEN (scope admin) or read:TOKEN; YAML admin.token_file",
  },
  {
    key: "adminViewer",
    flag: "admin-viewer",
    kind: "bool",
    defaultText: "true",
    metavar: "",
    yamlPath: ["admin", "viewer"],
    description: "Serve the web viewer at /ui/ on the admin port; YAML admin.viewer",
  },
  {
    key: "dataDir",
    flag: "data-dir",
    kind: "string",
    defaultText: DEFAULT_DATA_DIR,
    metavar: "DIR",
    description: "Folder for tapline's own state, such as the generated admin_token",
  },
  {
    key: "trustedKeysFile",
    flag: "trusted-keys",
    kind: "string",
    metavar: "FILE",
    yamlPath: ["trusted_keys_file"],
    description: "Public keys (ed25519:...), one a line: packs must be signed by one of them to install or load",
  },
  {
    key: "metricsCompat",
    flag: "metrics-compat",
    kind: "bool",
    defaultText: "true",
    metavar: "",
    description: "Serve http-tap-proxy's metrics (http_tap_proxy_*) next to tapline's, for existing dashboards",
  },
  {
    key: "maxBodySize",
    flag: "max-body-size",
    kind: "size",
    defaultText: "100MB",
    metavar: "SIZE",
    description: "Largest body captured per request or response; forwarding is never cut",
  },
  { key: "cert", flag: "cert", kind: "string", metavar: "FILE", description: "TLS certificate (PEM) for listen_https" },
  { key: "key", flag: "key", kind: "string", metavar: "FILE", description: "TLS private key (PEM) for listen_https" },
  {
    key: "autoCert",
    flag: "auto-cert",
    kind: "bool",
    defaultText: "false",
    metavar: "",
    description: "Generate a self-signed certificate for localhost, 127.0.0.1 and ::1",
  },
  {
    key: "insecureSkipVerify",
    flag: "insecure-skip-verify",
    kind: "bool",
    defaultText: "true",
    metavar: "",
    description: "Skip TLS verification of https upstreams",
  },
  {
    key: "healthPath",
    flag: "health-path",
    kind: "path",
    defaultText: "/_health",
    metavar: "PATH",
    description: "Health endpoint path on the admin listener",
  },
  {
    key: "metricsPath",
    flag: "metrics-path",
    kind: "path",
    defaultText: "/_metrics",
    metavar: "PATH",
    description: "Prometheus metrics path on the admin listener",
  },
  {
    key: "logLevel",
    flag: "log-level",
    kind: "enum",
    choices: LOG_LEVELS,
    defaultText: "info",
    metavar: "LEVEL",
    description: "Log level: debug, info, warn or error",
  },
  {
    key: "logFormat",
    flag: "log-format",
    kind: "enum",
    choices: LOG_FORMATS,
    defaultText: "json",
    metavar: "FORMAT",
    description: "Log format on stderr: json or text",
  },
  {
    key: "captureMemoryBudget",
    flag: "capture-memory",
    kind: "size",
    defaultText: "256MB",
    metavar: "SIZE",
    description: "Budget of captured bytes held in memory awaiting the writer; past it captures are truncated",
  },
  {
    key: "captureQueueSize",
    flag: "capture-queue",
    kind: "int",
    defaultText: "10000",
    metavar: "N",
    description: "Most records waiting for the writer; more are dropped and counted",
  },
  {
    key: "workers",
    flag: "workers",
    kind: "workers",
    defaultText: "1",
    metavar: "N|auto",
    description: "Forwarding processes sharing each listener (auto: one per CPU); one process writes the captures",
  },
  {
    key: "captureThread",
    flag: "capture-thread",
    kind: "bool",
    defaultText: "false",
    metavar: "",
    description: "Write captures (encoding, SQLite, files) in a thread of their own, off the forwarding thread",
  },
  {
    key: "flushInterval",
    flag: "flush-interval",
    kind: "duration",
    defaultText: "100ms",
    metavar: "DURATION",
    description: "How often captured records are flushed to disk",
  },
  {
    key: "shutdownTimeout",
    flag: "shutdown-timeout",
    kind: "duration",
    defaultText: "30s",
    metavar: "DURATION",
    description: "How long shutdown waits for in-flight exchanges",
  },
  {
    key: "watch",
    flag: "watch",
    kind: "bool",
    defaultText: "false",
    metavar: "",
    description: "Reload the plugins when the config file or a plugin file changes",
  },
  {
    key: "pluginDrainTimeout",
    flag: "plugin-drain-timeout",
    kind: "duration",
    defaultText: "10m",
    metavar: "DURATION",
    description: "After a plugin reload, how long streams may keep the old plugins before they move to the new ones",
  },
  {
    key: "sqliteEngine",
    flag: "sqlite-engine",
    kind: "enum",
    choices: SQLITE_ENGINES,
    defaultText: "sqljs",
    metavar: "ENGINE",
    description: "SQLite engine for log_sqlite: sqljs (everywhere) or native (node:sqlite: Node 22.13+, Deno, Bun)",
  },
  {
    key: "sqliteFlush",
    flag: "sqlite-flush",
    kind: "duration",
    defaultText: "1s",
    metavar: "DURATION",
    description: "Longest a captured row waits before it is in the SQLite file (native: 250ms at most)",
  },
  {
    key: "exportMaxSize",
    flag: "export-max-size",
    kind: "size",
    defaultText: "100MB",
    metavar: "SIZE",
    description: "Largest export GET /api/export sends; larger ones are refused with 413",
  },
  {
    key: "rotateSize",
    flag: "rotate-size",
    kind: "size",
    defaultText: "100MB",
    metavar: "SIZE",
    description: "Rotate a JSONL or SQLite capture file once it reaches this size",
  },
  {
    key: "rotateInterval",
    flag: "rotate-interval",
    kind: "duration",
    defaultText: "1h",
    metavar: "DURATION",
    description: "Rotate capture files this often",
  },
  {
    key: "retention",
    flag: "retention",
    kind: "count-or-unlimited",
    defaultText: "10",
    metavar: "N",
    description: "Rotated files kept per capture file when S3 is not configured (-1: all), as in http-tap-proxy",
  },
  {
    key: "s3Bucket",
    flag: "s3-bucket",
    kind: "string",
    metavar: "NAME",
    description: "Upload rotated files to this S3 bucket, then delete them locally (credentials from AWS_*)",
  },
  { key: "s3Prefix", flag: "s3-prefix", kind: "string", metavar: "PREFIX", description: "Key prefix for uploads" },
  {
    key: "s3Endpoint",
    flag: "s3-endpoint",
    kind: "url",
    metavar: "URL",
    description: "S3-compatible endpoint, path-style (MinIO, R2, ...); AWS when absent",
  },
  {
    key: "s3Region",
    flag: "s3-region",
    kind: "string",
    metavar: "REGION",
    description: "S3 region (else AWS_REGION or AWS_DEFAULT_REGION)",
  },
  {
    key: "s3KeyTemplate",
    flag: "s3-key-template",
    kind: "string",
    defaultText: "{prefix}route={route}/date={date}/hour={hour}/{instance}-{timestamp}-{seq}.{ext}",
    metavar: "TEMPLATE",
    description: 'Object keys of archived files; "{prefix}{file}" is http-tap-proxy\'s flat layout',
  },
  {
    key: "s3Compress",
    flag: "s3-compress",
    kind: "enum",
    choices: ["gzip", "zstd", "none"],
    defaultText: "gzip",
    metavar: "FORMAT",
    description: "Compress rotated JSONL before upload: gzip, zstd or none",
  },
  {
    key: "s3Format",
    flag: "s3-format",
    kind: "enum",
    choices: ["jsonl", "parquet"],
    defaultText: "jsonl",
    metavar: "FORMAT",
    description: "Rotated JSONL archived as JSONL (compressed by --s3-compress) or converted to Parquet",
  },
  {
    key: "instanceId",
    flag: "instance-id",
    kind: "string",
    metavar: "ID",
    description: "This instance's name in S3 keys (default: host name and a suffix kept in the data dir)",
  },
];

/** Flags of the Go tool that tapline recognises and refuses, with why and what to use instead. */
export const UNSUPPORTED_FLAGS: Readonly<Record<string, string>> = {
  service:
    "Flag --service is not supported: tapline has no Windows service mode; run it under your service manager (tapline --print-systemd writes a systemd unit)",
};

/** True for a flag name (without dashes) tapline recognises but does not implement. */
export function isUnsupportedFlag(name: string): boolean {
  return Object.hasOwn(UNSUPPORTED_FLAGS, name);
}

/** Environment variable for a flag: `max-body-size` → `TAPLINE_MAX_BODY_SIZE`. */
export function envName(flag: string): string {
  return `TAPLINE_${flag.toUpperCase().replaceAll("-", "_")}`;
}

/** YAML key for a flag: `max-body-size` → `max_body_size`. */
export function yamlKey(flag: string): string {
  return flag.replaceAll("-", "_");
}

/** Where an option sits in the YAML file: `["max_body_size"]`, `["admin", "token_file"]`. */
export function yamlPathOf(option: GlobalOption): readonly string[] {
  return option.yamlPath ?? [yamlKey(option.flag)];
}

/** Built-in defaults (the bottom layer). */
export function defaultGlobals(): Globals {
  return {
    healthPath: "/_health",
    metricsPath: "/_metrics",
    maxBodySize: 100 * 1024 ** 2,
    captureMemoryBudget: 256 * 1024 ** 2,
    captureQueueSize: 10_000,
    workers: 1,
    captureThread: false,
    flushInterval: 100,
    shutdownTimeout: 30_000,
    autoCert: false,
    insecureSkipVerify: true,
    logLevel: "info",
    logFormat: "json",
    rotateSize: 100 * 1024 ** 2,
    sqliteEngine: "sqljs",
    sqliteFlush: 1000,
    exportMaxSize: 100 * 1024 ** 2,
    adminViewer: true,
    metricsCompat: true,
    s3KeyTemplate: "{prefix}route={route}/date={date}/hour={hour}/{instance}-{timestamp}-{seq}.{ext}",
    s3Compress: "gzip",
    s3Format: "jsonl",
    rotateInterval: 60 * 60 * 1000,
    retention: 10,
  };
}

const TRUE_WORDS = new Set(["1", "t", "T", "true", "TRUE", "True"]);
const FALSE_WORDS = new Set(["0", "f", "F", "false", "FALSE", "False"]);

/** Parse a boolean the way Go's strconv.ParseBool does. */
export function parseBool(text: string): boolean {
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  throw new Error(`Invalid boolean ${shown(text)}: expected true or false`);
}

/**
 * Parse a setting's value from text (flags, environment) or from a YAML scalar
 * already checked against the schema. Throws an Error saying what is wrong.
 */
export function parseOptionValue(option: GlobalOption, value: string | number | boolean): Globals[GlobalKey] {
  switch (option.kind) {
    case "size":
      if (typeof value === "number") return checkCount(value, "size", 0);
      return parseSize(String(value));
    case "duration": {
      const ms = parseDuration(String(value));
      if ((option.key === "flushInterval" || option.key === "rotateInterval") && ms <= 0) {
        throw new Error(`Invalid duration ${shown(String(value))}: must be greater than 0`);
      }
      return ms;
    }
    case "int": {
      if (typeof value === "number") return checkCount(value, "number", 1);
      if (!/^\d+$/.test(value.toString().trim())) {
        throw new Error(`Invalid number ${shown(String(value))}: expected a whole number of at least 1`);
      }
      return checkCount(Number(value), "number", 1);
    }
    case "workers": {
      const text = String(value).trim();
      if (text === "auto") return 0;
      if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_WORKERS) {
        throw new Error(`Invalid number of workers ${shown(String(value))}: expected 1 to ${MAX_WORKERS}, or auto`);
      }
      return Number(text);
    }
    case "count-or-unlimited": {
      const text = String(value).trim();
      if (!/^(-1|\d+)$/.test(text)) {
        throw new Error(`Invalid number ${shown(String(value))}: expected -1 (unlimited) or a whole number`);
      }
      return Number(text);
    }
    case "url": {
      const text = String(value);
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw new Error(`Invalid URL ${shown(text)}: must be an absolute http or https URL`);
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new Error(`Invalid URL ${shown(text)}: must be an absolute http or https URL`);
      }
      return text.replace(/\/+$/, "");
    }
    case "bool":
      return typeof value === "boolean" ? value : parseBool(String(value));
    case "listen":
      return parseListen(String(value));
    case "path": {
      const text = String(value);
      if (!text.startsWith("/")) throw new Error(`Invalid path ${shown(text)}: must start with "/"`);
      return text;
    }
    case "enum": {
      const text = String(value);
      if (!option.choices?.includes(text)) {
        throw new Error(`Invalid value ${shown(text)}: expected one of ${option.choices?.join(", ")}`);
      }
      return text as LogLevel;
    }
    case "string": {
      const text = String(value);
      if (text === "") throw new Error(`Invalid value "": must not be empty`);
      return text;
    }
  }
}

function checkCount(value: number, what: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`Invalid ${what} ${value}: expected a whole number of at least ${min}`);
  }
  return value;
}
