import { concatBytes } from "../shared/bytes.ts";
import type { MemoryBudget } from "./memory-budget.ts";

/**
 * Keeps a capped copy of a body as its chunks pass the tee. Chunks are kept by
 * reference: the runtimes hand out fresh buffers per read and nothing writes to
 * them afterwards, so copying would only cost time.
 */
export class BodyCapture {
  /** Every byte seen on the wire, captured or not. */
  size = 0;
  /** Bytes kept in `chunks`. */
  captured = 0;
  /** True once a byte was seen that is not kept. */
  truncated = false;
  /** True when truncation came from the global budget rather than `maxBodySize`. */
  budgetExhausted = false;
  readonly chunks: Uint8Array[] = [];
  readonly #max: number;
  readonly #budget: MemoryBudget;

  constructor(maxBodySize: number, budget: MemoryBudget) {
    this.#max = maxBodySize;
    this.#budget = budget;
  }

  /** Records one chunk that is being forwarded. */
  add(chunk: Uint8Array): void {
    const length = chunk.byteLength;
    this.size += length;
    if (this.truncated) return;
    const room = this.#max - this.captured;
    const wanted = length < room ? length : room;
    const granted = wanted > 0 ? this.#budget.reserve(wanted) : 0;
    if (granted > 0) {
      this.chunks.push(granted === length ? chunk : chunk.subarray(0, granted));
      this.captured += granted;
    }
    if (granted < length) {
      this.truncated = true;
      if (granted < wanted) this.budgetExhausted = true;
    }
  }

  /** The captured bytes as one array. */
  bytes(): Uint8Array {
    return concatBytes(this.chunks);
  }

  /** Returns the reserved bytes to the budget; the capture must not be read after. */
  release(): void {
    this.#budget.release(this.captured);
    // Releasing twice must not give the budget bytes it never lent.
    this.captured = 0;
    this.chunks.length = 0;
  }
}
