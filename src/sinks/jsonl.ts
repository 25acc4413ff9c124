import { describeError } from "../shared/describe-error.ts";
import { recordJson } from "./record-json.ts";
import { applyRetention } from "./retention.ts";
import { baseName, directoryOf, rotatedPath } from "./rotated-name.ts";
import { type RotationPolicy, Rotator } from "./rotator.ts";
import type { CaptureRecord } from "../shared/record.ts";
import type { AppendFile, RecordSink, SinkFileSystem } from "./types.ts";
import { AppendFailure, PartialWriteError, utf8Length } from "./write-errors.ts";

/** Rotation and retention of a JSONL sink; without `rotation` the file only grows. */
export interface JsonlSinkOptions {
  /** When the live file is renamed aside and a fresh one started. */
  rotation?: RotationPolicy;
  /** Rotated files to keep after each rotation (newest first); -1 or absent keeps all. */
  retention?: number;
  /** Called with the path of each rotated file once it is complete (the S3 uploader subscribes). */
  onRotated?: (rotatedPath: string) => void | Promise<void>;
  /** Failures that have no caller to reject: rotation, retention and onRotated errors. */
  onError?: (error: Error) => void;
  /** The clock for rotated names (tests inject one). */
  now?: () => Date;
  /**
   * How often, at most, a batch checks that the path still names the open
   * file (deleted or replaced by an operator), in ms. Default 1000: the check
   * is two stat calls, which at every batch took ~5% of the CPU under load.
   */
  liveCheckIntervalMs?: number;
}

const DEFAULT_LIVE_CHECK_MS = 1000;

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Appends records to a JSONL file, one JSON object per line and one write per
 * batch. JSONL is the source of truth, so the file is only ever appended to;
 * with rotation, a file is closed and renamed to a timestamped name before
 * the line that would take it past `--rotate-size`, and a fresh live file
 * takes its place (a batch is split there; a line larger than the limit gets
 * a file of its own).
 *
 * Failures lose nothing that reached the disk and count the rest exactly: an
 * append cut short (a full disk) is truncated back to its last whole line
 * (or, when even that fails, the line is ended when the file is next
 * opened) and rejects with `PartialWriteError` naming how many records were
 * written. A live file deleted or replaced under tapline is noticed at the
 * next batch and opened again at its path.
 */
export class JsonlSink implements RecordSink {
  readonly name: string;
  readonly path: string;
  readonly #fs: SinkFileSystem;
  readonly #options: JsonlSinkOptions;
  readonly #rotator: Rotator | undefined;
  #file: Promise<AppendFile> | undefined;
  /** Bytes in the live file (from its size at open, plus every append). */
  #size = 0;
  /** When the live path was last checked against the open file (performance.now()). */
  #checkedAt = -Infinity;
  /** The last append or rotation issued; the next one starts after it. */
  #tail: Promise<void> = Promise.resolve();

  constructor(path: string, fs: SinkFileSystem, options: JsonlSinkOptions = {}) {
    this.path = path;
    this.name = `jsonl ${path}`;
    this.#fs = fs;
    this.#options = options;
    if (options.retention !== undefined && !Number.isInteger(options.retention)) {
      throw new RangeError(`Invalid retention ${options.retention} for ${path}: must be an integer`);
    }
    this.#rotator = options.rotation ? new Rotator(options.rotation, () => this.#enqueueIntervalRotation()) : undefined;
  }

  /** Opens the file now so a bad path fails at start-up, not at the first record. */
  async open(): Promise<void> {
    await this.#handle();
  }

  #handle(): Promise<AppendFile> {
    this.#file ??= this.#openLive().catch((error: unknown) => {
      this.#file = undefined;
      throw error;
    });
    return this.#file;
  }

  async #openLive(): Promise<AppendFile> {
    const file = await this.#fs.openAppend(this.path);
    try {
      let size = (await this.#fs.size(this.path)) ?? 0;
      // A crash (or a failed append) can leave a half-written last line: end it, so the next record starts on a
      // line of its own.
      if (size > 0 && (await this.#fs.readRange(this.path, size - 1, 1))[0] !== 0x0a) size += await file.append("\n");
      // An existing live file keeps growing after a restart, so its bytes count.
      this.#size = size;
      this.#rotator?.opened(size);
    } catch (error) {
      await file.close().catch(() => {});
      throw error;
    }
    return file;
  }

  /** Encodes at once and appends after any earlier batch still being written, so lines keep their order. */
  writeBatch(records: readonly CaptureRecord[]): Promise<void> {
    const lines = new Array<string>(records.length);
    for (let i = 0; i < records.length; i++) lines[i] = recordJson(records[i]!);
    return this.writeLines(lines);
  }

  /** Appends records already encoded by {@link recordJson} (one per line, without the newline). */
  writeLines(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    const append = this.#tail.catch(() => {}).then(() => this.#appendLines(lines));
    this.#tail = append;
    return append;
  }

  /** The live file, opened again when its path was deleted or replaced since. */
  async #live(): Promise<AppendFile> {
    const file = await this.#handle();
    const now = performance.now();
    if (now - this.#checkedAt < (this.#options.liveCheckIntervalMs ?? DEFAULT_LIVE_CHECK_MS)) return file;
    this.#checkedAt = now;
    if (await file.isCurrent().catch(() => true)) return file;
    this.#file = undefined;
    await file.close().catch(() => {});
    return await this.#handle();
  }

  /** How many of `lines[from..]` fit before the size limit: at least one on an empty file. */
  #fitting(lines: readonly string[], from: number): number {
    const max = this.#rotator?.policy.maxBytes ?? 0;
    if (max <= 0 || !Number.isFinite(max)) return lines.length - from;
    const room = max - this.#size;
    let chars = 0;
    for (let i = from; i < lines.length; i++) chars += lines[i]!.length + 1;
    // At most 3 bytes per UTF-16 unit: when even that fits, nothing needs counting.
    if (chars * 3 <= room) return lines.length - from;
    let bytes = 0;
    let count = 0;
    for (let i = from; i < lines.length; i++) {
      bytes += utf8Length(lines[i]!) + 1;
      if (bytes > room) break;
      count++;
    }
    return count === 0 && this.#size === 0 ? 1 : count;
  }

  async #appendLines(lines: readonly string[]): Promise<void> {
    let done = 0;
    while (done < lines.length) {
      await this.#live();
      let count = this.#fitting(lines, done);
      if (count === 0) {
        // The next line would take the file past the limit: rotate first. When the rotation fails (reported),
        // the live file keeps growing and the next batch tries again.
        await this.#rotate();
        if (this.#size === 0) continue;
        count = lines.length - done;
      }
      const file = await this.#live();
      const text = lines.slice(done, done + count).join("\n") + "\n";
      let bytes: number;
      try {
        // The runtime encodes the text to write it anyway: its byte count comes back for free.
        bytes = await file.append(text);
      } catch (error) {
        throw new PartialWriteError(done + (await this.#keepWholeLines(file, lines, done, error)), lines.length, error);
      }
      this.#size += bytes;
      done += count;
      // Rotating inside the chain means no other append can reach the file being renamed.
      if (this.#rotator?.appended(bytes)) await this.#rotate();
    }
  }

  /**
   * After an append of `lines[from..]` failed: cuts a partial line off the
   * file and returns how many whole lines reached it. The handle is dropped
   * either way, so the next batch reopens the file (ending a line that could
   * not be cut) and reads its true size.
   */
  async #keepWholeLines(file: AppendFile, lines: readonly string[], from: number, error: unknown): Promise<number> {
    // What the runtime says reached the file, or what the file's size says (some runtimes write part of a
    // buffer and then throw without saying so).
    const told = error instanceof AppendFailure ? error.bytesWritten : 0;
    const size = await this.#fs.size(this.path).catch(() => undefined);
    const reached = Math.max(told, size === undefined ? 0 : size - this.#size);
    let whole = 0;
    let bytes = 0;
    for (let i = from; i < lines.length; i++) {
      const next = bytes + utf8Length(lines[i]!) + 1;
      if (next > reached) break;
      bytes = next;
      whole++;
    }
    if (reached > bytes) await file.truncate(this.#size + bytes).catch(() => {});
    this.#size += bytes;
    this.#rotator?.appended(bytes);
    this.#file = undefined;
    await file.close().catch(() => {});
    return whole;
  }

  #enqueueIntervalRotation(): void {
    this.#tail = this.#tail.catch(() => {}).then(async () => {
      const rotator = this.#rotator!;
      // Closed meanwhile, or already rotated by size since the timer fired.
      if (this.#file === undefined || !rotator.due) return;
      await this.#rotate();
    });
  }

  /** Closes, renames aside, reopens, applies retention and notifies; reports instead of throwing. */
  async #rotate(): Promise<void> {
    const current = this.#file;
    this.#file = undefined;
    if (current !== undefined) {
      try {
        await (await current).close();
      } catch (error) {
        this.#report(
          new Error(`Failed to close ${this.path} for rotation: ${describeError(error)}`, { cause: error }),
        );
      }
    }
    let rotated: string | undefined;
    try {
      const taken = new Set(await this.#fs.list(directoryOf(this.path)));
      const target = rotatedPath(this.path, (this.#options.now ?? (() => new Date()))(), (p) => taken.has(baseName(p)));
      await this.#fs.rename(this.path, target);
      rotated = target;
    } catch (error) {
      // The live file stays as it is and keeps growing; the next append tries again.
      this.#report(new Error(`Failed to rotate ${this.path}: ${describeError(error)}`, { cause: error }));
    }
    try {
      await this.#handle();
    } catch (error) {
      this.#report(
        new Error(`Failed to reopen ${this.path} after rotation: ${describeError(error)}`, { cause: error }),
      );
    }
    if (rotated === undefined) return;
    const keep = this.#options.retention;
    if (keep !== undefined && keep >= 0) {
      try {
        await applyRetention(this.#fs, this.path, keep);
      } catch (error) {
        this.#report(asError(error));
      }
    }
    this.#notify(rotated);
  }

  #notify(rotated: string): void {
    const onRotated = this.#options.onRotated;
    if (onRotated === undefined) return;
    const fail = (error: unknown) =>
      this.#report(new Error(`Rotation listener failed for ${rotated}: ${describeError(error)}`, { cause: error }));
    try {
      // Not awaited: an upload must not hold up the appends behind it.
      Promise.resolve(onRotated(rotated)).catch(fail);
    } catch (error) {
      fail(error);
    }
  }

  #report(error: Error): void {
    try {
      this.#options.onError?.(error);
    } catch {
      // A failing error handler must not break the append chain.
    }
  }

  /** Waits for pending appends and rotations, stops the interval timer and closes the live file (no final rotation). */
  async close(): Promise<void> {
    this.#rotator?.stop();
    await this.#tail.catch(() => {});
    // A rotation that was already queued reopened the file and re-armed the timer.
    this.#rotator?.stop();
    const file = this.#file;
    this.#file = undefined;
    if (file) await (await file).close();
  }
}
