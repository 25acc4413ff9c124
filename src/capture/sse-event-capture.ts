import { isoTimestamp } from "./timestamp.ts";
import type { Capture } from "./capture.ts";
import type { MemoryBudget } from "./memory-budget.ts";
import { RECORD_VERSION, type SseEventRecord } from "../shared/record.ts";

/** A parsed Server-Sent Event and where it belongs. */
export interface SseEventStart {
  routeName: string;
  connectionId: string;
  /** Milliseconds since the response head arrived. */
  tDeltaMs: number;
  event: string;
  data: string;
  idField?: string;
  retry?: number;
}

/**
 * One Server-Sent Event on its way to the writer. Its data counts against the
 * capture memory budget like a body: past the budget or `maxBodySize`
 * characters the data is cut and flagged.
 */
export class SseEventCapture implements Capture {
  readonly id = crypto.randomUUID();
  readonly at = Date.now();
  readonly start: SseEventStart;
  readonly truncated: boolean;
  /** True when the budget, not `maxBodySize`, cut the data. */
  readonly budgetExhausted: boolean;
  #data: string;
  #held: number;
  readonly #budget: MemoryBudget;

  constructor(start: SseEventStart, maxBodySize: number, budget: MemoryBudget) {
    this.start = start;
    this.#budget = budget;
    const wanted = Math.min(start.data.length, maxBodySize);
    const granted = wanted > 0 ? budget.reserve(wanted) : 0;
    this.#held = granted;
    this.truncated = granted < start.data.length;
    this.budgetExhausted = granted < wanted;
    this.#data = this.truncated ? start.data.slice(0, granted) : start.data;
  }

  get heldBytes(): number {
    return this.#held;
  }

  toRecord(): SseEventRecord {
    const start = this.start;
    const record: SseEventRecord = {
      type: "sse_event",
      v: RECORD_VERSION,
      id: this.id,
      route_name: start.routeName,
      connection_id: start.connectionId,
      timestamp: isoTimestamp(this.at),
      t_delta_ms: Math.round(start.tDeltaMs * 1000) / 1000,
      event: start.event,
      data: this.#data,
    };
    if (this.truncated) record.data_truncated = true;
    if (start.idField !== undefined) record.id_field = start.idField;
    if (start.retry !== undefined) record.retry = start.retry;
    return record;
  }

  release(): void {
    this.#budget.release(this.#held);
    this.#held = 0;
    this.#data = "";
  }
}
