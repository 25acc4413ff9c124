/**
 * What a runtime adapter supplies to the runtime-independent core. Everything
 * runtime-specific (sockets, TLS, files, signals, zlib) sits behind this.
 */
import type { PackFiles } from "../plugins/packs/pack-files.ts";
import type { SqlDatabase } from "../sinks/sql-database.ts";
import type { Decompressor } from "../capture/decompress.ts";
import type { Route } from "../core/route.ts";
import type { SinkFileSystem } from "../sinks/types.ts";
import type { Sha256Constructor } from "../s3/sha256.ts";

/** A listen address split into host and port; `:8080` listens on every interface. */
export interface ListenAddress {
  /** Host or IP to bind; `""` means every interface (Go's `:8080`). */
  host: string;
  port: number;
  /** The address as the user wrote it, for messages. */
  text: string;
}

/** PEM certificate and key for an https listener. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

/** A bound listening socket. */
export interface Listener {
  /** The bound address as `host:port` (with the real port when 0 was asked for). */
  readonly address: string;
  /** Whether it answers HTTP/2 too (h2c or ALPN `h2`), not only HTTP/1.1. */
  readonly http2: boolean;
  /** Stops accepting connections and closes idle keep-alive ones; in-flight exchanges go on. */
  stop(): Promise<void>;
  /** Closes every remaining connection at once. */
  closeAll(): void;
}

/** Upstream connection options of a proxy. */
export interface UpstreamOptions {
  /** Accept any certificate from an https upstream. */
  insecureSkipVerify: boolean;
  /**
   * This process is one of several `--workers` sharing each listener: open
   * listeners so that the siblings can bind the same address (Bun: reusePort).
   */
  sharedListeners?: boolean;
  /** Listeners accept HTTP/2 next to HTTP/1.1 where the runtime can (the proxy's `http2`, default on). */
  http2?: boolean;
  /** `h2`: HTTP/2 to the upstream always (h2c on http); `auto`: ALPN for https; `h1`: HTTP/1.1 only. */
  upstreamProto?: "auto" | "h1" | "h2";
}

/** A worker process's channel to the primary that forked it. */
export interface ParentChannel {
  /** This worker's number, from 1. */
  readonly index: number;
  /** Sends one JSON message; resolves once it is handed to the channel. */
  send(message: unknown): Promise<void>;
  onMessage(handler: (message: unknown) => void): void;
  /** Calls `handler` when the channel closes: the primary has gone. */
  onDisconnect(handler: () => void): void;
  disconnect(): void;
}

/** A worker process, seen from the primary. */
export interface WorkerProcess {
  readonly pid: number | undefined;
  send(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
  onExit(handler: (code: number | null, signal: string | null) => void): void;
  kill(signal?: "SIGTERM" | "SIGKILL"): void;
}

/** Worker processes running this same program (`--workers N`). */
export interface ProcessCluster {
  /** Set in a worker: its channel to the primary. Undefined in the primary (or a single process). */
  readonly parent: ParentChannel | undefined;
  /** Starts worker number `index` with `env` added to this process's environment. */
  fork(index: number, env: Record<string, string>): WorkerProcess;
  /** CPUs this process may use (`--workers auto`). */
  cpuCount(): number;
}

/** One end of the channel between a thread and the thread that started it (structured clone). */
export interface ThreadChannel {
  post(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
}

/** A thread seen from the thread that started it. */
export interface StartedThread extends ThreadChannel {
  /** Called once when the thread has ended, an uncaught error included, with its exit code. */
  onExit(handler: (code: number) => void): void;
  /** Ends the thread at once. */
  terminate(): Promise<void>;
}

/** Threads running this same program (the capture thread). */
export interface ProgramThreads {
  /** Set in such a thread: its channel to the thread that started it and the data it was started with. */
  readonly parent: (ThreadChannel & { readonly data: unknown }) | undefined;
  /** Starts the module at `entry` (a file URL: the program's main module) as a thread that receives `data`. */
  start(entry: string, data: unknown): StartedThread;
}

/** The forwarding side of one route: an upstream client and its listeners. */
export interface ProxyServer {
  /** Binds a listener that forwards every request on `address` through the route. */
  listen(address: ListenAddress, tls?: TlsMaterial): Promise<Listener>;
  /** Tells in-flight and new responses to close their connections (shutdown). */
  drain(): void;
  /** Releases the upstream connections. */
  close(): Promise<void>;
}

/** A Web-standard request handler (the admin app's `fetch`). */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** The runtime adapter. */
export interface Runtime {
  readonly name: "node" | "deno" | "bun";
  /** Version of the runtime itself, e.g. `20.20.2`. */
  readonly version: string;
  createProxyServer(route: Route, options: UpstreamOptions): ProxyServer;
  /**
   * Whether its proxy servers speak HTTP/2: h2c and ALPN `h2` on the listeners, `upstream_proto=h2` and ALPN
   * under `auto` to upstreams. Where false they answer and forward HTTP/1.1 only (README "HTTP/2 and gRPC").
   */
  readonly http2: boolean;
  /** Serves a fetch handler (the admin API). */
  serveFetch(handler: FetchHandler, address: ListenAddress): Promise<Listener>;
  readonly fs: SinkFileSystem;
  /** File access of the pack store and the pack commands. */
  readonly packFiles: PackFiles;
  /** Runs a program (the npm CLI for `pack install SPEC`); never throws, `code` null when it cannot start. */
  runCommand(
    command: string,
    args: readonly string[],
    options: { cwd: string; timeoutMs: number },
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Opens a SQLite file with the runtime's native engine; rejects with UnavailableError when there is none. */
  openNativeSqlite(path: string): Promise<SqlDatabase>;
  /** A new empty private directory under the system's temporary directory. */
  makeTempDir(prefix: string): Promise<string>;
  readonly decompress: Decompressor;
  /**
   * Asks the engine to collect garbage soon, after the capture writer let go
   * of many large records; absent where the engine's own pacing is enough.
   */
  readonly collectGarbageHint?: () => void;
  /** Native base64 of bytes, for binary bodies in records. */
  readonly base64: (bytes: Uint8Array) => string;
  /** Native SHA-256 / HMAC-SHA-256 for SigV4 signing of S3 uploads. */
  readonly sha256: Sha256Constructor;
  readTextFile(path: string): Promise<string>;
  /**
   * Creates `path` holding `text`, readable only by this user (mode 0600), unless it exists; missing
   * parent folders are created (mode 0700). Never overwrites: true when this call created the file.
   */
  createPrivateFile(path: string, text: string): Promise<boolean>;
  /** Command-line arguments after the program (and script) name. */
  args(): string[];
  env(): Record<string, string | undefined>;
  cwd(): string;
  /** This machine's host name (instance ids in S3 keys). */
  hostname(): string;
  /** The command that starts this process again, for `--print-systemd`. */
  execStart(): string[];
  // SIGTERM and SIGINT: src/runtime/shutdown-signals.ts catches them from the first module on.
  /** Calls `handler` on SIGHUP (reload the plugins from their files). */
  onReloadSignal(handler: () => void): void;
  writeStdout(text: string): void;
  writeStderr(text: string): void;
  /** Whether stderr is a terminal (progress bars are drawn only there). */
  stderrIsTerminal(): boolean;
  /** Whether stdout is a terminal (colors and tables for people). */
  stdoutIsTerminal(): boolean;
  exit(code: number): never;
  /** Worker processes for `--workers`. */
  readonly cluster: ProcessCluster;
  /** Threads of this program (`--capture-thread`). */
  readonly threads: ProgramThreads;
}
