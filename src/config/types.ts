/**
 * The validated configuration every other layer reads. Built by `loadConfig`
 * from defaults < YAML (`--config`) < `TAPLINE_*` environment < flags.
 */
import type { AdminToken } from "../admin/tokens.ts";
import type { PluginDeclaration } from "../plugins/types.ts";
import type { LogFormat, LogLevel } from "../shared/logger.ts";
import type { ListenAddress } from "../runtime/types.ts";

/** One proxy instance (the Go http-tap-proxy's `--proxy` flag, or a YAML `proxies[]` entry). */
export interface ProxyConfig {
  /** Route name, `^[a-zA-Z][a-zA-Z0-9_-]*$`; used in records, metrics and file names. */
  name: string;
  /** Upstream base URL, `http:` or `https:`; its path is prefixed to forwarded paths. */
  upstream: URL;
  listenHttp?: ListenAddress;
  listenHttps?: ListenAddress;
  /** Resolved JSONL file path (directory mode already expanded to `<dir>/<name>.jsonl`). */
  logJsonl?: string;
  /** Resolved SQLite file path (directory mode expanded to `<dir>/<name>.db`). */
  logSqlite?: string;
  /** Regex sources; capture only paths matching one (empty: all). Applied before `excludePath`. */
  includePath: string[];
  /** Regex sources; never capture paths matching one. */
  excludePath: string[];
  /**
   * `http2=off` answers HTTP/1.1 only; absent or `on`: listeners also accept HTTP/2 (h2c with
   * prior knowledge on listen_http, ALPN `h2` on listen_https) where the runtime can.
   */
  http2?: boolean;
  /**
   * The protocol to the upstream: `auto` (absent; ALPN for https upstreams, HTTP/1.1 for http ones),
   * `h1` (HTTP/1.1 always) or `h2` (HTTP/2 always, prior knowledge on http).
   */
  upstreamProto?: UpstreamProto;
}

/** How a proxy speaks to its upstream. */
export type UpstreamProto = "auto" | "h1" | "h2";

/** The whole process configuration. Sizes are bytes, durations milliseconds. */
export interface Config {
  proxies: ProxyConfig[];
  /** Admin listener (health, metrics, the token-protected API); absent means no admin port. */
  listenAdmin?: ListenAddress;
  /** `--admin-token-file`: a file of admin API tokens (format in src/admin/token-file.ts). */
  adminTokenFile?: string;
  /**
   * Tokens written in the config itself: YAML `admin.tokens`, `TAPLINE_ADMIN_TOKEN`. Absent when none.
   * With the token file, they come from the highest source that names any (see mergeLayers).
   */
  adminTokens?: AdminToken[];
  /** YAML `admin.allowed_hosts`: more Host names the admin listener answers; `*` answers any. */
  adminAllowedHosts?: string[];
  /**
   * YAML `trusted_keys`: public keys (`ed25519:<base64>`) one of which must
   * have signed every pack installed or loaded. Absent: signatures optional.
   */
  trustedKeys?: string[];
  /** FileDescriptorSet files that describe gRPC methods, so their messages are recorded as JSON too. */
  grpcDescriptors?: string[];
  /** `--trusted-keys FILE`: more trusted keys, one a line (`#` starts a comment). */
  trustedKeysFile?: string;
  /** Folder for tapline's own state (the generated admin token); absent: DEFAULT_DATA_DIR, `./data`. */
  dataDir?: string;
  healthPath: string;
  metricsPath: string;
  /** Per-body capture cap; forwarding is never cut. Default 100MB. */
  maxBodySize: number;
  /** Global budget for captured bytes held in memory awaiting the writer. Default 256MB. */
  captureMemoryBudget: number;
  /** Maximum records waiting for the writer; more are dropped and counted. Default 10000. */
  captureQueueSize: number;
  /**
   * Forwarding processes sharing each listener (`--workers`); 1 (the default) forwards in this process, 0 means
   * one per CPU (`auto`).
   */
  workers: number;
  /**
   * Write captures (JSON encoding, SQLite inserts and commits, file writes) in a thread of their own, so they
   * leave the forwarding thread. Default false.
   */
  captureThread: boolean;
  /** How often the JSONL writer flushes a batch. Default 100 ms. */
  flushInterval: number;
  /** How long shutdown waits for in-flight exchanges before closing them. Default 30 s. */
  shutdownTimeout: number;
  /** Reload the plugins when the config file, the saved set or a plugin file changes. Absent: false. */
  watch?: boolean;
  /** How long a replaced plugin set may wait for its streams, ms; absent: 10 minutes. */
  pluginDrainTimeout?: number;
  /** PEM file paths for `listen_https`. */
  cert?: string;
  key?: string;
  /** Generate a self-signed ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1. */
  autoCert: boolean;
  /** Skip TLS verification of https upstreams. Default true (as http-tap-proxy). */
  insecureSkipVerify: boolean;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** SQLite engine: `sqljs` (in memory, written to the file every `sqliteFlush`; default) or `native` (node:sqlite). */
  sqliteEngine: "sqljs" | "native";
  /** How often sql.js writes a changed database to its file (ms). Default 1 s. */
  sqliteFlush: number;
  /** Largest export `GET /api/export` sends, in bytes. */
  exportMaxSize: number;
  /** Object keys of archived files (src/s3/object-key.ts). */
  s3KeyTemplate: string;
  /** Compression of rotated JSONL before upload. Default gzip. */
  s3Compress: "gzip" | "zstd" | "none";
  /** Rotated JSONL archived as JSONL or converted to Parquet. Default jsonl. */
  s3Format: "jsonl" | "parquet";
  /** This instance's name in S3 keys; default: host name and a suffix kept in the data dir. */
  instanceId?: string;
  /** Serve http-tap-proxy's `http_tap_proxy_*` series next to tapline's. Default true. */
  metricsCompat: boolean;
  /** Serve the web viewer at `/ui/` on the admin port. Default true. */
  adminViewer: boolean;
  /** Rotate a capture file once it reaches this many bytes. Default 100MB. */
  rotateSize: number;
  /** Rotate a capture file this often (ms). Default 1 h. */
  rotateInterval: number;
  /** Rotated files kept per sink when S3 is not configured; -1 keeps all. Default 10, as in http-tap-proxy. */
  retention: number;
  /** S3 archival of rotated files; off when absent. */
  s3Bucket?: string;
  /** Key prefix in the bucket, e.g. `tapline/`. */
  s3Prefix?: string;
  /** S3-compatible endpoint (path-style), e.g. `http://127.0.0.1:9000`; AWS when absent. */
  s3Endpoint?: string;
  /** Region; else AWS_REGION / AWS_DEFAULT_REGION. */
  s3Region?: string;
  /** The YAML `plugins:` list in chain order (YAML only); `[]` when none. */
  plugins: PluginDeclaration[];
}
