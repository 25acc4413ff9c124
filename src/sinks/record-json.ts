import type { CaptureRecord, SseEventRecord, WebSocketFrameRecord } from "../shared/record.ts";

const str = JSON.stringify;

/**
 * One record as a JSON line (without the newline). Frame and event records,
 * which streams produce by the hundred thousand per second, are written by
 * hand: about 2.5x cheaper than `JSON.stringify` of the object (measured on
 * Node 20), with the same text for the same record. Their ids, timestamps and
 * enum fields never need escaping; every free-text field goes through
 * `JSON.stringify`.
 */
export function recordJson(record: CaptureRecord): string {
  const kept = (record as Keeping)[LINE];
  if (kept) return kept;
  const line = encode(record);
  if (kept === null) (record as Keeping)[LINE] = line;
  return line;
}

/**
 * The line of a record a second reader will encode too (the live tail sends
 * what the JSONL sink writes): null until the first encoding, then its text.
 * A non-enumerable symbol property, so JSON, spreads and copies never carry
 * it; measured cheaper than a WeakMap, whose entries V8's collector must
 * trace separately.
 */
const LINE = Symbol("tapline.recordJson");
type Keeping = CaptureRecord & { [LINE]?: string | null };

/**
 * Asks {@link recordJson} to keep the line of `record` once it is encoded, so
 * the next caller gets the same text without encoding again.
 */
export function keepRecordJson(record: CaptureRecord): void {
  if ((record as Keeping)[LINE] === undefined) {
    Object.defineProperty(record, LINE, { value: null, writable: true, enumerable: false, configurable: true });
  }
}

function encode(record: CaptureRecord): string {
  switch (record.type) {
    case "websocket_frame":
      return frameJson(record);
    case "sse_event":
      return eventJson(record);
    default:
      return str(record);
  }
}

function frameJson(r: WebSocketFrameRecord): string {
  let out = `{"type":"websocket_frame","v":${r.v},"id":"${r.id}","route_name":${
    str(r.route_name)
  },"connection_id":"${r.connection_id}","timestamp":"${r.timestamp}","direction":"${r.direction}","opcode":${r.opcode},"opcode_name":"${r.opcode_name}","payload_size":${r.payload_size}`;
  if (r.payload !== undefined) out += `,"payload":${str(r.payload)}`;
  if (r.payload_base64 !== undefined) out += `,"payload_base64":${r.payload_base64}`;
  if (r.payload_truncated !== undefined) out += `,"payload_truncated":${r.payload_truncated}`;
  if (r.close_code !== undefined) out += `,"close_code":${r.close_code}`;
  if (r.close_reason !== undefined) out += `,"close_reason":${str(r.close_reason)}`;
  if (r.tags !== undefined) out += `,"tags":${str(r.tags)}`;
  if (r.plugin_generation !== undefined) out += `,"plugin_generation":${r.plugin_generation}`;
  return out + "}";
}

function eventJson(r: SseEventRecord): string {
  let out = `{"type":"sse_event","v":${r.v},"id":"${r.id}","route_name":${
    str(r.route_name)
  },"connection_id":"${r.connection_id}","timestamp":"${r.timestamp}","t_delta_ms":${str(r.t_delta_ms)},"event":${
    str(r.event)
  },"data":${str(r.data)}`;
  if (r.data_truncated !== undefined) out += `,"data_truncated":${r.data_truncated}`;
  if (r.id_field !== undefined) out += `,"id_field":${str(r.id_field)}`;
  if (r.retry !== undefined) out += `,"retry":${str(r.retry)}`;
  if (r.tags !== undefined) out += `,"tags":${str(r.tags)}`;
  if (r.plugin_generation !== undefined) out += `,"plugin_generation":${r.plugin_generation}`;
  return out + "}";
}
