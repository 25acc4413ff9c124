/** When a sink's live file must rotate: by size, or by age since it was opened. */

/** When to rotate. A zero (or infinite) limit disables that trigger. */
export interface RotationPolicy {
  /** Rotate once the live file holds at least this many bytes. */
  maxBytes: number;
  /**
   * Rotate this long after the live file was opened; when nothing was written
   * to it by then, this long after its first write instead.
   */
  intervalMs: number;
}

/** `--rotate-size` default: 100 MB. */
export const DEFAULT_ROTATE_BYTES = 100 * 1024 * 1024;
/** `--rotate-interval` default: one hour. */
export const DEFAULT_ROTATE_INTERVAL_MS = 60 * 60 * 1000;
/** The default policy. */
export const DEFAULT_ROTATION: Readonly<RotationPolicy> = Object.freeze({
  maxBytes: DEFAULT_ROTATE_BYTES,
  intervalMs: DEFAULT_ROTATE_INTERVAL_MS,
});

/** setTimeout's limit; a longer delay would fire at once, so long intervals are waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function checkLimit(value: number, what: string): void {
  if (Number.isNaN(value) || value < 0) throw new RangeError(`Invalid rotation ${what} ${value}: must be 0 or more`);
}

/**
 * Tracks the live file of one sink and says when it must rotate. The sink
 * calls `opened` whenever a live file is (re)opened and `appended` after each
 * write; the interval is a timer that calls `onInterval`, after which `due`
 * stays true until the next `opened`. An interval that ends on an empty file
 * does not fire: it starts again at the first write, so an idle sink makes no
 * empty rotated files and the first records after a pause still get a whole
 * interval. The timer does not keep the process alive where the runtime
 * supports `unref` (Node, Bun); `stop` cancels it.
 */
export class Rotator {
  readonly policy: Readonly<RotationPolicy>;
  readonly #onInterval: () => void;
  #size = 0;
  #intervalElapsed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** performance.now() at which the interval ends: monotonic, unlike Date.now(). */
  #deadline = 0;
  /** The interval ended on an empty file; the next write starts it again. */
  #idle = false;

  /** Throws a RangeError for a negative or NaN limit. */
  constructor(policy: RotationPolicy, onInterval: () => void = () => {}) {
    checkLimit(policy.maxBytes, "size");
    checkLimit(policy.intervalMs, "interval");
    this.policy = Object.freeze({ ...policy });
    this.#onInterval = onInterval;
  }

  /** Bytes in the live file as far as this rotator knows. */
  get size(): number {
    return this.#size;
  }

  /** The size limit is reached. */
  get sizeDue(): boolean {
    const max = this.policy.maxBytes;
    return max > 0 && Number.isFinite(max) && this.#size >= max;
  }

  /** The interval has elapsed since the live file was opened. */
  get intervalDue(): boolean {
    return this.#intervalElapsed;
  }

  /** Either trigger fired. */
  get due(): boolean {
    return this.sizeDue || this.#intervalElapsed;
  }

  /** A live file was opened holding `size` bytes: counts restart and the interval timer is armed again. */
  opened(size = 0): void {
    this.#size = size;
    this.#intervalElapsed = false;
    this.#start();
  }

  /** Counts `bytes` written to the live file; returns `due`. */
  appended(bytes: number): boolean {
    this.#size += bytes;
    if (this.#idle && bytes > 0) this.#start();
    return this.due;
  }

  /** Cancels the interval timer (until the next `opened`). */
  stop(): void {
    this.#clearTimer();
    this.#idle = false;
  }

  #start(): void {
    this.#clearTimer();
    this.#idle = false;
    const interval = this.policy.intervalMs;
    if (interval > 0 && Number.isFinite(interval)) {
      this.#deadline = performance.now() + interval;
      this.#arm(interval);
    }
  }

  #arm(delay: number): void {
    const timer = setTimeout(() => this.#fire(), Math.min(Math.max(delay, 0), MAX_TIMER_MS));
    (timer as { unref?: () => unknown }).unref?.();
    this.#timer = timer;
  }

  #fire(): void {
    this.#timer = undefined;
    const left = this.#deadline - performance.now();
    // Timers may fire a little early, and long intervals are waited for in steps.
    if (left > 1) {
      this.#arm(left);
      return;
    }
    if (this.#size === 0) {
      this.#idle = true;
      return;
    }
    this.#intervalElapsed = true;
    this.#onInterval();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
