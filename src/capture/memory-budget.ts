/**
 * A global budget of captured bytes held in memory between the tee and the
 * writer. Captures reserve before keeping a chunk and release once written, so
 * many large concurrent bodies cannot take the process out: past the budget a
 * capture is truncated (and counted), while forwarding never waits.
 */
export class MemoryBudget {
  #used = 0;
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Bytes currently reserved. */
  get used(): number {
    return this.#used;
  }

  /** Reserves up to `wanted` bytes; returns how many were granted (0..wanted). */
  reserve(wanted: number): number {
    const granted = Math.min(wanted, this.limit - this.#used);
    if (granted <= 0) return 0;
    this.#used += granted;
    return granted;
  }

  /** Gives back bytes reserved earlier. */
  release(bytes: number): void {
    this.#used -= bytes;
    if (this.#used < 0) this.#used = 0;
  }
}
