/**
 * One trace in full: its record and, for an exchange, the frames, events, gRPC
 * messages and custom records that belong to it, paged when there are many.
 */
import type {
  CaptureRecord,
  CustomRecord,
  GrpcMessageRecord,
  SseEventRecord,
  WebSocketFrameRecord,
} from "../shared/record.ts";
import type { TraceSource } from "./trace-source.ts";

/** A page of related records. */
export interface RelatedPage<T> {
  items: T[];
  total: number;
  /** The `offset` of the next page, or null. */
  next_offset: number | null;
}

/** The detail of a trace. */
export interface TraceDetail {
  record: CaptureRecord;
  frames: RelatedPage<WebSocketFrameRecord>;
  events: RelatedPage<SseEventRecord>;
  /** The messages of a gRPC call, in the order they passed. */
  grpc_messages: RelatedPage<GrpcMessageRecord>;
  custom: RelatedPage<CustomRecord>;
}

/** Paging of related records. */
export interface RelatedPaging {
  offset: number;
  /** 1..5000. */
  limit: number;
}

/** The record with this id in any source, or undefined. */
export async function findRecord(sources: readonly TraceSource[], id: string): Promise<
  { record: CaptureRecord; source: TraceSource } | undefined
> {
  for (const source of sources) {
    const record = await source.find(id);
    if (record !== undefined) return { record, source };
  }
  return undefined;
}

/**
 * The detail of the record `id`, or undefined when no source has it.
 *
 * @example
 * ```ts
 * const detail = await traceDetail(sources, id, { offset: 0, limit: 1000 });
 * detail?.events.items.forEach((event) => console.log(event.t_delta_ms, event.data));
 * ```
 */
export async function traceDetail(
  sources: readonly TraceSource[],
  id: string,
  paging: RelatedPaging,
): Promise<TraceDetail | undefined> {
  const found = await findRecord(sources, id);
  if (found === undefined) return undefined;
  const frames: WebSocketFrameRecord[] = [];
  const events: SseEventRecord[] = [];
  const messages: GrpcMessageRecord[] = [];
  const custom: CustomRecord[] = [];
  if (found.record.type === "http") {
    for await (const record of found.source.related(id)) {
      if (record.type === "websocket_frame") frames.push(record);
      else if (record.type === "sse_event") events.push(record);
      else if (record.type === "grpc_message") messages.push(record);
      else if (record.type === "custom") custom.push(record);
    }
  }
  return {
    record: found.record,
    frames: page(frames, paging),
    events: page(events, paging),
    grpc_messages: page(messages, paging),
    custom: page(custom, paging),
  };
}

function page<T>(items: T[], { offset, limit }: RelatedPaging): RelatedPage<T> {
  const end = offset + limit;
  return { items: items.slice(offset, end), total: items.length, next_offset: end < items.length ? end : null };
}
