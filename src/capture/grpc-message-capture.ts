import { isoTimestamp } from "./timestamp.ts";
import type { Capture, CaptureLimits, RecordContext } from "./capture.ts";
import { toBase64 } from "../shared/base64.ts";
import type { GrpcMessage } from "./grpc-framer.ts";
import { type FrameDirection, type GrpcMessageRecord, RECORD_VERSION } from "../shared/record.ts";

/** Where a gRPC message belongs. */
export interface GrpcMessageStart {
  routeName: string;
  /** The id of the call's `http` record. */
  connectionId: string;
  direction: FrameDirection;
  /** Position in the call, both directions counted together from 0. */
  seq: number;
  /** Milliseconds since the request started. */
  tDeltaMs: number;
  /** The call's path, `/package.Service/Method`, for decoding with descriptors. */
  path: string;
}

/**
 * One gRPC message on its way to the writer, its payload held up to
 * `maxBodySize` within the memory budget. Payloads are protobuf (binary), so
 * the record always carries base64.
 */
export class GrpcMessageCapture implements Capture {
  readonly id = crypto.randomUUID();
  readonly at = Date.now();
  readonly start: GrpcMessageStart;
  readonly size: number;
  readonly compressed: boolean;
  readonly truncated: boolean;
  /** True when the budget, not `maxBodySize`, cut the payload. */
  readonly budgetExhausted: boolean;
  #payload: Uint8Array | undefined;
  #held: number;
  readonly #budget: CaptureLimits["budget"];

  constructor(start: GrpcMessageStart, message: GrpcMessage, limits: CaptureLimits) {
    this.start = start;
    this.size = message.size;
    this.compressed = message.compressed;
    this.#budget = limits.budget;
    const wanted = Math.min(message.payload.byteLength, limits.maxBodySize);
    const granted = wanted > 0 ? limits.budget.reserve(wanted) : 0;
    this.#held = granted;
    this.truncated = granted < message.size;
    this.budgetExhausted = granted < wanted;
    if (granted > 0) {
      this.#payload = granted === message.payload.byteLength ? message.payload : message.payload.slice(0, granted);
    }
  }

  get heldBytes(): number {
    return this.#held;
  }

  toRecord(context: RecordContext): GrpcMessageRecord {
    const start = this.start;
    const record: GrpcMessageRecord = {
      type: "grpc_message",
      v: RECORD_VERSION,
      id: this.id,
      route_name: start.routeName,
      connection_id: start.connectionId,
      timestamp: isoTimestamp(this.at),
      direction: start.direction,
      seq: start.seq,
      t_delta_ms: Math.round(start.tDeltaMs * 1000) / 1000,
      compressed: this.compressed,
      payload_size: this.size,
      payload: this.#payload === undefined ? "" : (context.base64 ?? toBase64)(this.#payload),
      payload_base64: true,
    };
    if (this.truncated) record.payload_truncated = true;
    // Only a whole, uncompressed message decodes; anything else keeps its base64 alone.
    if (context.grpc !== undefined && this.#payload !== undefined && !this.truncated && !this.compressed) {
      const json = context.grpc.decode(start.path, start.direction, this.#payload);
      if (json !== undefined) record.payload_json = json;
    }
    return record;
  }

  release(): void {
    this.#budget.release(this.#held);
    this.#held = 0;
    this.#payload = undefined;
  }
}
