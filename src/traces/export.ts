/**
 * Captured records exported oldest first from every source, as JSONL lines
 * or one HAR 1.2 document, produced a piece at a time so a large export
 * streams instead of being built in memory.
 */
import type { CaptureRecord, WebSocketFrameRecord } from "../shared/record.ts";
import { recordJson } from "../sinks/record-json.ts";
import type { RecordFilter } from "./filter/filter.ts";
import { HAR_END, harEntry, harStart } from "./har.ts";
import type { SourceBounds, TraceSource } from "./trace-source.ts";

/** The export formats. */
export type ExportFormat = "har" | "jsonl";

/** Records of all sources in the bounds, oldest first, each with its source. */
async function* mergedOldest(
  sources: readonly TraceSource[],
  bounds: SourceBounds,
): AsyncGenerator<{ record: CaptureRecord; source: TraceSource }> {
  const heads = sources.map((source) => ({
    source,
    iterator: source.oldest(bounds)[Symbol.asyncIterator](),
    current: undefined as CaptureRecord | undefined,
  }));
  try {
    for (const head of heads) head.current = (await head.iterator.next()).value ?? undefined;
    for (;;) {
      let next: typeof heads[number] | undefined;
      for (const head of heads) {
        if (head.current === undefined) continue;
        if (next === undefined || head.current.timestamp < next.current!.timestamp) next = head;
      }
      if (next === undefined) return;
      yield { record: next.current!, source: next.source };
      const step = await next.iterator.next();
      next.current = step.done ? undefined : step.value;
    }
  } finally {
    await Promise.all(heads.map((head) => head.iterator.return?.()));
  }
}

/**
 * The export as text pieces. JSONL holds every matching record; HAR holds the
 * matching exchanges, each upgrade with its WebSocket messages.
 *
 * @example
 * ```ts
 * for await (const piece of exportText(store.sources(filter), "har", filter, {}, VERSION)) await out.write(piece);
 * ```
 */
export async function* exportText(
  sources: readonly TraceSource[],
  format: ExportFormat,
  filter: RecordFilter,
  bounds: SourceBounds,
  version: string,
): AsyncGenerator<string> {
  if (format === "jsonl") {
    for await (const { record } of mergedOldest(sources, bounds)) {
      if (filter.matchesAll || filter.matches(record)) yield recordJson(record) + "\n";
    }
    return;
  }
  yield harStart(version);
  let first = true;
  for await (const { record, source } of mergedOldest(sources, bounds)) {
    if (record.type !== "http" || !(filter.matchesAll || filter.matches(record))) continue;
    const frames: WebSocketFrameRecord[] = [];
    if (record.response?.status === 101) {
      for await (const related of source.related(record.id)) {
        if (related.type === "websocket_frame") frames.push(related);
      }
    }
    yield (first ? "" : ",") + JSON.stringify(harEntry(record, frames));
    first = false;
  }
  yield HAR_END;
}
