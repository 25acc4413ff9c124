/**
 * Live records for `GET /api/tail`: the capture writer publishes every record
 * it writes; a bounded ring keeps the latest for clients that reconnect with
 * `Last-Event-ID`; each subscriber has its own bounded buffer, and when it
 * falls behind its records are counted as dropped instead of ever making
 * capture or forwarding wait.
 */
import type { CaptureRecord } from "../shared/record.ts";
import type { RecordFilter } from "./filter/filter.ts";
import { keepRecordJson } from "../sinks/record-json.ts";

/** Records kept for resuming. */
export const TAIL_RING_RECORDS = 1000;
/** Records a subscriber may have waiting before new ones are dropped for it. */
export const TAIL_BUFFER_RECORDS = 1000;
/**
 * Bodies, payloads and data larger than this are left out of tail records
 * (`tags.tail_omitted: true` says so): the ring and the buffers hold references,
 * and a 100 MB body must not stay alive for a live view.
 */
export const TAIL_MAX_TEXT = 16 * 1024;

/**
 * Milliseconds a subscriber's deliveries are apart at least: records that
 * arrive meanwhile go out together, in one write instead of one per record
 * (at 15,000 records a second, one socket write each was most of what a
 * subscriber cost).
 */
export const TAIL_COALESCE_MS = 20;

/** What a subscriber is handed: records and how many were dropped before them. */
export interface TailBatch {
  records: CaptureRecord[];
  dropped: number;
}

/** A live subscription. */
export interface TailSubscription {
  /** Waits for records (or a drop); resolves with an empty batch when closed. */
  next(): Promise<TailBatch>;
  close(): void;
  /** Whether `Last-Event-ID` was found in the ring (false: records in between may be missing). */
  readonly resumed: boolean;
  /**
   * The id of the record this subscription delivers after: the `Last-Event-ID` it resumed from, else the record
   * before its backlog, else the newest record written before it began (undefined when there is none). A client
   * that keeps it as its own last event id can reconnect without missing what passes before its first record
   * arrives.
   */
  readonly after: string | undefined;
}

interface Subscriber {
  filter: RecordFilter;
  buffer: CaptureRecord[];
  dropped: number;
  wake: (() => void) | undefined;
  closed: boolean;
}

/** The publisher side, given to the capture writer. */
export class TailHub {
  readonly #ring: CaptureRecord[] = [];
  readonly #subscribers = new Set<Subscriber>();
  /** Records dropped for slow subscribers since start (for metrics). */
  dropped = 0;

  /** Subscribers now. */
  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** Called by the capture writer with each written slice; never waits, never throws. */
  publish(records: readonly CaptureRecord[]): void {
    for (const original of records) {
      const record = lighten(original);
      this.#ring.push(record);
      if (this.#ring.length > TAIL_RING_RECORDS) this.#ring.shift();
      for (const subscriber of this.#subscribers) {
        if (!matches(subscriber.filter, record)) continue;
        // The JSONL sink encodes it next; the subscriber then reuses that line instead of encoding again.
        keepRecordJson(record);
        if (subscriber.buffer.length >= TAIL_BUFFER_RECORDS) {
          subscriber.dropped++;
          this.dropped++;
        } else subscriber.buffer.push(record);
        subscriber.wake?.();
      }
    }
  }

  /**
   * Subscribes; with `lastEventId`, the ring's records after that one are
   * delivered first. Otherwise (or when that record is no longer in the ring),
   * the newest `backlog` matching records are: a client that reads a page of
   * the files as well gets the records published but not yet written there.
   *
   * @example
   * ```ts
   * const sub = hub.subscribe(compileFilter("~s 5xx"));
   * for (let batch = await sub.next(); batch.records.length || batch.dropped; batch = await sub.next()) send(batch);
   * ```
   */
  subscribe(filter: RecordFilter, lastEventId?: string, backlog = 0): TailSubscription {
    const subscriber: Subscriber = { filter, buffer: [], dropped: 0, wake: undefined, closed: false };
    const ring = this.#ring;
    let resumed = false;
    let after = ring.at(-1)?.id;
    if (lastEventId !== undefined) {
      const at = ring.findIndex((record) => record.id === lastEventId);
      if (at !== -1) {
        resumed = true;
        after = lastEventId;
        subscriber.buffer.push(...ring.slice(at + 1).filter((record) => matches(filter, record)));
      }
    }
    if (!resumed && backlog > 0) {
      const newest: CaptureRecord[] = [];
      let first = ring.length;
      for (let i = ring.length - 1; i >= 0 && newest.length < backlog; i--) {
        if (!matches(filter, ring[i]!)) continue;
        newest.push(ring[i]!);
        first = i;
      }
      subscriber.buffer.push(...newest.reverse());
      // What it delivers now starts with the backlog: a reconnect from `after` gets the backlog again, never less.
      if (newest.length > 0) after = ring[first - 1]?.id;
    }
    this.#subscribers.add(subscriber);
    const close = () => {
      subscriber.closed = true;
      this.#subscribers.delete(subscriber);
      subscriber.wake?.();
    };
    let delivered = 0;
    return {
      resumed,
      after,
      close,
      next: async () => {
        while (!subscriber.closed && subscriber.buffer.length === 0 && subscriber.dropped === 0) {
          await new Promise<void>((resolve) => (subscriber.wake = resolve));
          subscriber.wake = undefined;
        }
        const wait = delivered + TAIL_COALESCE_MS - performance.now();
        if (wait > 0 && !subscriber.closed) await new Promise((resolve) => setTimeout(resolve, wait));
        delivered = performance.now();
        const batch = { records: subscriber.buffer, dropped: subscriber.dropped };
        subscriber.buffer = [];
        subscriber.dropped = 0;
        return subscriber.closed ? { records: [], dropped: 0 } : batch;
      },
    };
  }

  /** Ends every subscription (at shutdown). */
  closeAll(): void {
    for (const subscriber of [...this.#subscribers]) {
      subscriber.closed = true;
      this.#subscribers.delete(subscriber);
      subscriber.wake?.();
    }
  }
}

/** Whether a subscriber's filter takes the record; a record of a shape the filter does not expect is not a match. */
function matches(filter: RecordFilter, record: CaptureRecord): boolean {
  try {
    return filter.matchesAll || filter.matches(record);
  } catch {
    return false;
  }
}

/** The record, or a copy without texts over TAIL_MAX_TEXT. */
function lighten(record: CaptureRecord): CaptureRecord {
  switch (record.type) {
    case "http": {
      const big = (part: { body?: string; body_decoded?: string } | undefined) =>
        (part?.body?.length ?? 0) > TAIL_MAX_TEXT || (part?.body_decoded?.length ?? 0) > TAIL_MAX_TEXT;
      if (!big(record.request) && !big(record.response)) return record;
      const strip = <T extends { body?: string; body_decoded?: string }>(part: T): T => {
        const copy = { ...part };
        if ((copy.body?.length ?? 0) > TAIL_MAX_TEXT) delete copy.body;
        if ((copy.body_decoded?.length ?? 0) > TAIL_MAX_TEXT) delete copy.body_decoded;
        return copy;
      };
      return {
        ...record,
        request: strip(record.request),
        ...(record.response ? { response: strip(record.response) } : {}),
        tags: { ...record.tags, tail_omitted: true },
      };
    }
    case "websocket_frame":
      if ((record.payload?.length ?? 0) <= TAIL_MAX_TEXT) return record;
      return { ...record, payload: undefined, tags: { ...record.tags, tail_omitted: true } };
    case "sse_event":
      if (record.data.length <= TAIL_MAX_TEXT) return record;
      return { ...record, data: "", tags: { ...record.tags, tail_omitted: true } };
    case "grpc_message":
      if (record.payload.length <= TAIL_MAX_TEXT) return record;
      return { ...record, payload: "", tags: { ...record.tags, tail_omitted: true } };
    default:
      return record;
  }
}
