import { isoTimestamp } from "./timestamp.ts";
import type { Capture, CaptureLimits, RecordContext } from "./capture.ts";
import { encodeBody } from "./encode-body.ts";
import type { MemoryBudget } from "./memory-budget.ts";
import { type FrameDirection, type OpcodeName, RECORD_VERSION, type WebSocketFrameRecord } from "../shared/record.ts";

/** Opcode numbers by name (RFC 6455 §5.2). */
export const OPCODES: Readonly<Record<OpcodeName, number>> = { text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

/** Where a frame belongs and what it carried. */
export interface FrameStart {
  routeName: string;
  connectionId: string;
  direction: FrameDirection;
  opcode: OpcodeName;
  /** Close frames: the code, or undefined when the frame carried none. */
  closeCode?: number;
  closeReason?: string;
}

/**
 * One WebSocket frame on its way to the writer. The payload is kept by
 * reference up to `maxBodySize` (copied when cut, so the full message is not
 * held); the relayed message itself is never touched.
 */
export class FrameCapture implements Capture {
  readonly id = crypto.randomUUID();
  readonly at = Date.now();
  readonly start: FrameStart;
  readonly size: number;
  readonly truncated: boolean;
  #payload: Uint8Array | undefined;
  #held: number;
  readonly #budget: MemoryBudget;

  constructor(start: FrameStart, payload: Uint8Array, limits: CaptureLimits) {
    const { maxBodySize, budget } = limits;
    this.start = start;
    this.#budget = budget;
    // A close frame's payload on the wire is its 2-byte code and the reason.
    this.size = start.opcode === "close"
      ? (start.closeCode === undefined ? 0 : 2 + new TextEncoder().encode(start.closeReason ?? "").byteLength)
      : payload.byteLength;
    const wanted = Math.min(payload.byteLength, maxBodySize);
    const granted = wanted > 0 ? budget.reserve(wanted) : 0;
    this.#held = granted;
    this.truncated = granted < payload.byteLength && start.opcode !== "close";
    if (granted === payload.byteLength) this.#payload = payload;
    else if (granted > 0) this.#payload = payload.slice(0, granted);
  }

  /** True when the budget, not `maxBodySize`, cut the payload. */
  budgetExhausted(maxBodySize: number): boolean {
    return this.#held < Math.min(this.size, maxBodySize);
  }

  get heldBytes(): number {
    return this.#held;
  }

  toRecord(context: RecordContext): WebSocketFrameRecord {
    const start = this.start;
    const record: WebSocketFrameRecord = {
      type: "websocket_frame",
      v: RECORD_VERSION,
      id: this.id,
      route_name: start.routeName,
      connection_id: start.connectionId,
      timestamp: isoTimestamp(this.at),
      direction: start.direction,
      opcode: OPCODES[start.opcode],
      opcode_name: start.opcode,
      payload_size: this.size,
    };
    const payload = this.#payload;
    if (payload !== undefined && payload.byteLength > 0) {
      // Text frames are UTF-8 by protocol, but a control byte would still make
      // the record unreadable, so every payload goes through the same test as bodies.
      const { body, base64 } = encodeBody(payload, this.truncated, context.base64);
      record.payload = body;
      if (base64) record.payload_base64 = true;
    }
    if (this.truncated) record.payload_truncated = true;
    if (start.closeCode !== undefined) record.close_code = start.closeCode;
    if (start.closeReason) record.close_reason = start.closeReason;
    return record;
  }

  release(): void {
    this.#budget.release(this.#held);
    this.#held = 0;
    this.#payload = undefined;
  }
}
