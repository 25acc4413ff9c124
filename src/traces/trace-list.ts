/**
 * A page of traces, newest first, merged from every source by time, with an
 * opaque cursor for the next page. New records arrive at the newest end, so
 * paging on with a cursor never repeats or skips a record while capture goes
 * on. A page stops early (with a cursor) when it has scanned for too long, so
 * a filter that matches little cannot hold a request for minutes.
 */
import type { RecordFilter } from "./filter/filter.ts";
import {
  type CursorState,
  decodeCursor,
  encodeCursor,
  type PositionedRecord,
  type SourceBounds,
  type TraceSource,
} from "./trace-source.ts";
import { type TraceSummary, traceSummary } from "./trace-summary.ts";

/** What to list. */
export interface TraceQuery {
  filter: RecordFilter;
  bounds: SourceBounds;
  /** 1..500. */
  limit: number;
  cursor?: string;
  /** Milliseconds of scanning per page at most (default 1000). */
  budgetMs?: number;
}

/** A page. */
export interface TracePage {
  traces: TraceSummary[];
  /** null when there is nothing older. */
  next_cursor: string | null;
  /** Records looked at for this page. */
  scanned: number;
}

interface Head {
  source: TraceSource;
  iterator: AsyncIterator<PositionedRecord>;
  current: PositionedRecord | undefined;
}

/**
 * Lists traces.
 * @throws CursorError when the cursor is not usable
 */
export async function listTraces(sources: readonly TraceSource[], query: TraceQuery): Promise<TracePage> {
  const state: CursorState | undefined = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const heads: Head[] = [];
  const deadline = performance.now() + (query.budgetMs ?? 1000);
  try {
    for (const source of sources) {
      // A source missing from a cursor appeared after it was made: its records are newer than the cursor's page.
      if (state !== undefined && !state[source.key]) continue;
      const iterator = source.newest(state?.[source.key] ?? undefined, query.bounds)[Symbol.asyncIterator]();
      const head: Head = { source, iterator, current: undefined };
      await advance(head);
      heads.push(head);
    }
    const traces: TraceSummary[] = [];
    let scanned = 0;
    for (;;) {
      let next: Head | undefined;
      for (const head of heads) {
        if (head.current === undefined) continue;
        if (next === undefined || newer(head, next)) next = head;
      }
      if (next === undefined || traces.length >= query.limit) break;
      if ((++scanned & 255) === 0 && performance.now() > deadline) break;
      const record = next.current!.record;
      if (query.filter.matchesAll || query.filter.matches(record)) traces.push(traceSummary(record));
      await advance(next);
    }
    const positions: CursorState = {};
    let more = false;
    for (const head of heads) {
      positions[head.source.key] = head.current?.position ?? null;
      if (head.current !== undefined) more = true;
    }
    return { traces, next_cursor: more ? encodeCursor(positions) : null, scanned };
  } finally {
    await Promise.all(heads.map((head) => head.iterator.return?.()));
  }
}

async function advance(head: Head): Promise<void> {
  const step = await head.iterator.next();
  head.current = step.done ? undefined : step.value;
}

/** Whether `a`'s record is newer than `b`'s (ties: the larger id, so the order is total). */
function newer(a: Head, b: Head): boolean {
  const x = a.current!.record;
  const y = b.current!.record;
  if (x.timestamp !== y.timestamp) return x.timestamp > y.timestamp;
  return x.id > y.id;
}
