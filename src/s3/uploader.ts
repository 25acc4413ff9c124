/**
 * Archives rotated files to S3 one at a time: upload, and only once S3 has
 * confirmed it, delete the local file. A failed file stays on disk and is
 * retried with backoff; a scan at start-up and on an interval finds files
 * left over from earlier runs.
 */
import type { Logger } from "../shared/logger.ts";
import { FLAT_KEY_TEMPLATE, keyFieldsOf, renderKey } from "./object-key.ts";
import { S3RequestError } from "./errors.ts";
import type { Sha256Constructor } from "./sha256.ts";
import { backoffDelay } from "./backoff.ts";
import { S3Client, type S3ObjectStore } from "./client.ts";
import { S3Metrics } from "./metrics.ts";
import { objectKey, type RetryOptions, type S3Options } from "./options.ts";
import { contentTypeFor, uploadFile, type UploadFileSystem } from "./upload-file.ts";

/** Lists the local files waiting for upload (full paths). */
export type PendingLister = () => Promise<string[]>;

/** What an {@link S3Uploader} needs. */
export interface S3UploaderOptions {
  store: S3ObjectStore;
  fs: UploadFileSystem;
  /** Key prefix; see {@link objectKey}. */
  prefix: string;
  /** Object keys (object-key.ts); default the flat `{prefix}{file}`. */
  keyTemplate?: string;
  /** `{instance}` in keys. */
  instance?: string;
  /** Compress rotated JSONL files before upload (default none). */
  compress?: "gzip" | "zstd" | "none";
  /**
   * Converts rotated JSONL files before upload (`--s3-format parquet`): writes
   * `to` from the JSONL file `from`; the object gets `ext` instead of `.jsonl`.
   * Supplied by the CLI, which owns the record readers.
   */
  convert?: { ext: string; run(from: string, to: string): Promise<void> };
  multipartThresholdBytes: number;
  partSizeBytes: number;
  retry: RetryOptions;
  logger?: Logger;
  /** Finds rotated files not uploaded yet (the rotation helper's lister), used by {@link S3Uploader.scan}. */
  listPending?: PendingLister;
  /** How often {@link S3Uploader.start} rescans, milliseconds (default 60 s; 0 disables). */
  scanIntervalMs?: number;
  /** Random source for jitter (tests). */
  random?: () => number;
  metrics?: S3Metrics;
}

/** The file an upload attempt was for, to report a failure with. */
interface Attempt {
  path: string;
  file: PendingFile;
  /** The object, `s3://bucket/key`. */
  where: string;
}

interface PendingFile {
  /** Failed attempts so far. */
  attempts: number;
  /** Not retried before this time (epoch ms). */
  notBefore: number;
}

/** Sequence numbers tried for one file before giving up (each is a 412 from the bucket). */
const MAX_SEQ = 100;

const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function fileName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] ?? path;
}

/**
 * The upload queue.
 *
 * @example
 * const uploader = new S3Uploader({ store, fs: runtime.fs, prefix: "tapline/", ...S3_DEFAULTS, listPending });
 * await uploader.start();            // scan for files left from before, then rescan every minute
 * uploader.enqueue(rotatedPath);     // after each rotation
 * await uploader.close(10_000);      // at shutdown
 */
export class S3Uploader {
  readonly metrics: S3Metrics;
  readonly #options: S3UploaderOptions;
  readonly #log: Logger;
  readonly #random: () => number;
  /** Insertion-ordered: files are uploaded oldest first. */
  readonly #pending = new Map<string, PendingFile>();
  #running: Promise<void> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #scanTimer: ReturnType<typeof setInterval> | undefined;
  #closing = false;
  /** Whether close() asked to go on with the files that are due. */
  #drain = true;
  /** Aborts the upload in progress when close() runs out of time. */
  readonly #abort = new AbortController();
  /** False once the server said it does not implement conditional writes. */
  #conditionalSupported = true;

  constructor(options: S3UploaderOptions) {
    this.#options = options;
    this.#log = options.logger ?? quietLogger;
    this.#random = options.random ?? Math.random;
    this.metrics = options.metrics ?? new S3Metrics();
  }

  /** The object key a local file is uploaded to (its first choice: `seq` 0). */
  keyFor(path: string): string {
    const { keyPath, suffix } = this.#prepared(path);
    return this.#key(keyPath, 0, suffix);
  }

  /** The key for `keyPath` (a rotated file's name) with `seq`, and `suffix` (`.gz`) when compressed. */
  #key(keyPath: string, seq: number, suffix: string): string {
    const name = fileName(keyPath);
    const fields = keyFieldsOf(name, {
      prefix: this.#options.prefix,
      instance: this.#options.instance ?? "tapline",
      seq,
      suffix,
    });
    // A file whose name is not a rotated one's (never written by tapline) keeps the flat key.
    if (fields === undefined) return objectKey(this.#options.prefix, name + suffix);
    return renderKey(this.#options.keyTemplate ?? FLAT_KEY_TEMPLATE, fields);
  }

  /** `.gz` or `.zst` for a JSONL file uploaded compressed, else empty. */
  #suffixFor(path: string): string {
    const format = this.#options.compress ?? "none";
    if (format === "none" || !path.endsWith(".jsonl") || this.#options.convert !== undefined) return "";
    return format === "gzip" ? ".gz" : ".zst";
  }

  /**
   * What is uploaded for `path`: itself, a compressed copy beside it, or a
   * converted file beside it (named like a rotated file, so its key has the
   * new extension); `make` writes the copy.
   */
  #prepared(path: string): { source: string; keyPath: string; suffix: string; make?: () => Promise<void> } {
    const convert = this.#options.convert;
    if (convert !== undefined && path.endsWith(".jsonl")) {
      const source = path.slice(0, -".jsonl".length) + convert.ext;
      return { source, keyPath: source, suffix: "", make: () => convert.run(path, source) };
    }
    const suffix = this.#suffixFor(path);
    if (suffix === "") return { source: path, keyPath: path, suffix };
    const source = path + suffix;
    return {
      source,
      keyPath: path,
      suffix,
      make: () => this.#compress(path, source, suffix === ".gz" ? "gzip" : "zstd"),
    };
  }

  /** Whether keys can collide across instances, so uploads must not overwrite (`If-None-Match: *`). */
  get #conditional(): boolean {
    return this.#conditionalSupported && (this.#options.keyTemplate ?? FLAT_KEY_TEMPLATE).includes("{seq}");
  }

  /** Paths waiting for upload (including the one in progress), oldest first. */
  pending(): string[] {
    return [...this.#pending.keys()];
  }

  /** Scans once (awaited) and then every `scanIntervalMs`. */
  async start(): Promise<void> {
    await this.scan();
    const interval = this.#options.scanIntervalMs ?? 60_000;
    if (interval > 0 && !this.#closing && this.#scanTimer === undefined) {
      this.#scanTimer = setInterval(() => void this.scan(), interval);
    }
  }

  /**
   * Queues a rotated file for upload; a file already queued is not queued
   * twice. The file must be complete: it is deleted after its upload.
   */
  enqueue(path: string): void {
    if (this.#pending.has(path)) return;
    this.#pending.set(path, { attempts: 0, notBefore: 0 });
    this.metrics.filesPending = this.#pending.size;
    this.#kick();
  }

  /**
   * Queues the files a lister finds (default: the `listPending` option) or
   * the paths given. A lister failure is logged, not thrown.
   *
   * @returns how many files were newly queued.
   */
  async scan(source: PendingLister | readonly string[] | undefined = this.#options.listPending): Promise<number> {
    if (source === undefined) return 0;
    let paths: readonly string[];
    try {
      paths = typeof source === "function" ? await source() : source;
    } catch (error) {
      this.#log.warn("S3 scan for pending files failed", { error });
      return 0;
    }
    let added = 0;
    for (const path of paths) {
      if (this.#pending.has(path)) continue;
      this.enqueue(path);
      added++;
    }
    if (added > 0) this.#log.info("S3 scan found files to upload", { files: added });
    return added;
  }

  /**
   * Stops scanning and retrying, lets the upload in progress finish and, with
   * `drain` (default), uploads the other files that are due now, all within
   * `timeoutMs`. Past the deadline the upload in progress is aborted; its file
   * stays on disk for the next start-up scan.
   *
   * @returns true when nothing was left unfinished (no upload cut short, no due file left).
   */
  async close(timeoutMs: number, options: { drain?: boolean } = {}): Promise<boolean> {
    const drain = options.drain ?? true;
    this.#closing = true;
    this.#drain = drain;
    clearInterval(this.#scanTimer);
    clearTimeout(this.#retryTimer);
    this.#scanTimer = undefined;
    this.#retryTimer = undefined;
    if (drain) this.#kick(true);
    const running = this.#running;
    if (running === undefined) return !drain || this.#nextDue() === undefined;

    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      running.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!timedOut) return !drain || this.#nextDue() === undefined;

    this.#log.warn("S3 upload still running at shutdown: aborted, the file stays for the next start", {
      timeoutMs,
    });
    this.#abort.abort();
    // The abort settles fetch at once; file operations cannot be aborted, so bound the wait.
    await Promise.race([running, new Promise((resolve) => (timer = setTimeout(resolve, 1_000)))]);
    clearTimeout(timer);
    return false;
  }

  #nextDue(now = Date.now()): string | undefined {
    for (const [path, file] of this.#pending) {
      if (file.notBefore <= now) return path;
    }
    return undefined;
  }

  #kick(closing = false): void {
    if (this.#running !== undefined || (this.#closing && !closing)) return;
    this.#running = this.#pump().finally(() => {
      this.#running = undefined;
      this.#scheduleRetry();
    });
  }

  async #pump(): Promise<void> {
    for (;;) {
      if (this.#abort.signal.aborted || (this.#closing && !this.#drain)) return;
      const path = this.#nextDue();
      if (path === undefined) return;
      await this.#uploadOne(path);
    }
  }

  #scheduleRetry(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (this.#closing || this.#pending.size === 0) return;
    let earliest = Infinity;
    for (const file of this.#pending.values()) earliest = Math.min(earliest, file.notBefore);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#kick();
    }, Math.max(0, earliest - Date.now()));
  }

  async #uploadOne(path: string): Promise<void> {
    const file = this.#pending.get(path)!;
    const attempt: Attempt = { path, file, where: this.#options.store.describe(this.keyFor(path)) };
    let size: number | undefined;
    try {
      size = await this.#options.fs.size(path);
    } catch (error) {
      this.#failed(attempt, error);
      return;
    }
    if (size === undefined) {
      // Uploaded and deleted already (e.g. found by a scan that raced the upload), or removed by someone else.
      this.#log.debug("S3 upload skipped: the file no longer exists", { path });
      this.#forget(path);
      return;
    }

    const started = Date.now();
    // A compressed or converted copy is written beside the original, which stays until the upload is confirmed.
    const { source, keyPath, suffix, make } = this.#prepared(path);
    let bytes: number;
    let key: string;
    try {
      await make?.();
      ({ bytes, key } = await this.#uploadUnderFreeKey(keyPath, source, suffix, attempt));
    } catch (error) {
      if (source !== path) await this.#options.fs.remove(source).catch(() => {});
      this.#failed(attempt, error);
      return;
    }

    // Only a confirmed upload reaches this point: now the local copy may go.
    // It is forgotten only once removed, so a scan meanwhile cannot queue it again,
    // and the counters move once the whole upload, deletion included, is done.
    // The compressed copy first: a crash in between leaves the original, which is uploaded again.
    try {
      if (source !== path) await this.#options.fs.remove(source);
      await this.#options.fs.remove(path);
    } catch (error) {
      // Harmless: a later scan finds the file and uploads it again (under a new sequence number).
      this.#log.error("S3 upload done but the local file could not be deleted", { path, error });
    }
    this.#forget(path);
    this.metrics.uploads++;
    this.metrics.bytesUploaded += bytes;
    this.#log.info("S3 upload done", {
      path,
      object: this.#options.store.describe(key),
      bytes,
      ms: Date.now() - started,
    });
  }

  async #compress(from: string, to: string, format: "gzip" | "zstd"): Promise<void> {
    const fs = this.#options.fs;
    if (fs.compressFile === undefined) throw new Error(`${format} compression is not available in this runtime`);
    await fs.compressFile(from, to, format);
  }

  /**
   * Uploads `source` under the first key of `path` that is free: a key taken
   * in the bucket (412 to `If-None-Match: *`) is never overwritten; the next
   * sequence number is tried instead.
   */
  async #uploadUnderFreeKey(
    path: string,
    source: string,
    suffix: string,
    attempt: Attempt,
  ): Promise<{ bytes: number; key: string }> {
    for (let seq = 0;; seq++) {
      const key = this.#key(path, seq, suffix);
      attempt.where = this.#options.store.describe(key);
      try {
        const result = await uploadFile({
          store: this.#options.store,
          fs: this.#options.fs,
          path: source,
          key,
          multipartThresholdBytes: this.#options.multipartThresholdBytes,
          partSizeBytes: this.#options.partSizeBytes,
          contentType: contentTypeFor(source),
          signal: this.#abort.signal,
          ifNoneMatch: this.#conditional,
          onAbortError: (error) => this.#log.debug("S3 multipart abort failed", { path, key, error }),
        });
        return { bytes: result.bytes, key };
      } catch (error) {
        if (!(error instanceof S3RequestError)) throw error;
        if (error.status === 412 && this.#conditional && seq < MAX_SEQ) {
          this.#log.warn("S3 key already taken, trying the next sequence number", { path, object: attempt.where });
          continue;
        }
        if (this.#conditional && (error.status === 501 || error.s3Code === "NotImplemented")) {
          // An older S3-compatible server: uploads go on without the condition (the keys still carry the instance).
          this.#log.warn("The S3 server does not support If-None-Match; uploading without it", {
            object: attempt.where,
          });
          this.#conditionalSupported = false;
          seq--;
          continue;
        }
        throw error;
      }
    }
  }

  #failed({ path, file, where }: Attempt, error: unknown): void {
    this.metrics.uploadFailures++;
    file.attempts++;
    const delay = backoffDelay(file.attempts, this.#options.retry, this.#random);
    file.notBefore = Date.now() + delay;
    this.#log.warn("S3 upload failed, file kept for retry", {
      path,
      object: where,
      attempt: file.attempts,
      retryInMs: delay,
      error,
    });
  }

  #forget(path: string): void {
    this.#pending.delete(path);
    this.metrics.filesPending = this.#pending.size;
  }
}

/** Everything an uploader built from {@link S3Options} needs from the runtime and the sinks. */
export interface S3UploaderDependencies {
  fs: UploadFileSystem;
  sha256: Sha256Constructor;
  logger?: Logger;
  listPending?: PendingLister;
  scanIntervalMs?: number;
  metrics?: S3Metrics;
  /** Converts rotated JSONL before upload (`--s3-format parquet`). */
  convert?: S3UploaderOptions["convert"];
}

/**
 * Builds the client and the uploader from the S3 settings.
 *
 * @example
 * const uploader = createS3Uploader(options, { fs: runtime.fs, sha256: runtime.sha256, logger, listPending });
 */
export function createS3Uploader(options: S3Options, deps: S3UploaderDependencies): S3Uploader {
  const store = new S3Client({
    bucket: options.bucket,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    region: options.region,
    credentials: options.credentials,
    sha256: deps.sha256,
  });
  return new S3Uploader({
    store,
    fs: deps.fs,
    prefix: options.prefix,
    ...(options.keyTemplate === undefined ? {} : { keyTemplate: options.keyTemplate }),
    ...(options.instance === undefined ? {} : { instance: options.instance }),
    ...(options.compress === undefined ? {} : { compress: options.compress }),
    ...(deps.convert === undefined ? {} : { convert: deps.convert }),
    multipartThresholdBytes: options.multipartThresholdBytes,
    partSizeBytes: options.partSizeBytes,
    retry: options.retry,
    ...(deps.logger === undefined ? {} : { logger: deps.logger }),
    ...(deps.listPending === undefined ? {} : { listPending: deps.listPending }),
    ...(deps.scanIntervalMs === undefined ? {} : { scanIntervalMs: deps.scanIntervalMs }),
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}
