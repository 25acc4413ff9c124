/**
 * What a runtime adapter supplies to the runtime-independent core. Everything
 * runtime-specific (sockets, TLS, files, signals, zlib) sits behind this.
 */
import type { Decompressor } from "../capture/decompress.ts";
import type { ListenAddress } from "../config/types.ts";
import type { Route } from "../core/route.ts";
import type { SinkFileSystem } from "../sinks/types.ts";

/** PEM certificate and key for an https listener. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

/** A bound listening socket. */
export interface Listener {
  /** The bound address as `host:port` (with the real port when 0 was asked for). */
  readonly address: string;
  /** Stops accepting connections and closes idle keep-alive ones; in-flight exchanges go on. */
  stop(): Promise<void>;
  /** Closes every remaining connection at once. */
  closeAll(): void;
}

/** Upstream connection options of a proxy. */
export interface UpstreamOptions {
  /** Accept any certificate from an https upstream. */
  insecureSkipVerify: boolean;
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

/** What a SHA-256 accepts: text (UTF-8 unless told) or bytes. */
export type Sha256Input = string | ArrayBuffer | ArrayBufferView;

/** An incremental SHA-256 (HMAC-SHA-256 when made with a secret). */
export interface Sha256Hash {
  update(data: Sha256Input, encoding?: "utf8" | "ascii" | "latin1"): void;
  /** The 32-byte digest; call once. */
  digest(): Promise<Uint8Array>;
}

/**
 * The hash constructor @smithy/signature-v4 takes as `sha256`: `new Sha256()`
 * hashes, `new Sha256(secret)` computes an HMAC.
 */
export type Sha256Constructor = new (secret?: Sha256Input | null) => Sha256Hash;

/** A Web-standard request handler (the admin app's `fetch`). */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** The runtime adapter. */
export interface Runtime {
  readonly name: "node" | "deno" | "bun";
  /** Version of the runtime itself, e.g. `20.20.2`. */
  readonly version: string;
  createProxyServer(route: Route, options: UpstreamOptions): ProxyServer;
  /** Serves a fetch handler (the admin API). */
  serveFetch(handler: FetchHandler, address: ListenAddress): Promise<Listener>;
  readonly fs: SinkFileSystem;
  readonly decompress: Decompressor;
  /** Native base64 of bytes, for binary bodies in records. */
  readonly base64: (bytes: Uint8Array) => string;
  /** Native SHA-256 / HMAC-SHA-256 for SigV4 signing of S3 uploads. */
  readonly sha256: Sha256Constructor;
  readTextFile(path: string): Promise<string>;
  /** Command-line arguments after the program (and script) name. */
  args(): string[];
  env(): Record<string, string | undefined>;
  cwd(): string;
  /** The command that starts this process again, for `--print-systemd`. */
  execStart(): string[];
  /** Calls `handler` on SIGTERM and SIGINT. */
  onShutdownSignal(handler: (signal: string) => void): void;
  writeStdout(text: string): void;
  writeStderr(text: string): void;
  /** Whether stderr is a terminal (progress bars are drawn only there). */
  stderrIsTerminal(): boolean;
  exit(code: number): never;
}
