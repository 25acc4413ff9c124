import type { Decompressor } from "./decompress.ts";
import type { GrpcDecoder } from "./grpc-decoder.ts";
import type { MemoryBudget } from "./memory-budget.ts";
import type { CaptureRecord } from "../shared/record.ts";

/** How much a capture may hold: per body (or payload) and across the process. */
export interface CaptureLimits {
  /** Largest body or payload captured; the rest is counted, not kept. */
  maxBodySize: number;
  /** The process-wide budget captured bytes are reserved in. */
  budget: MemoryBudget;
}

/** What record building needs besides the capture. */
export interface RecordContext {
  maxBodySize: number;
  decompress: Decompressor;
  /** A faster base64 encoder from the runtime, when it has one. */
  base64?: (bytes: Uint8Array) => string;
  /** Decodes gRPC messages to JSON (`--grpc-descriptors`), when descriptors were given. */
  grpc?: GrpcDecoder;
}

/**
 * Raw captured state on its way to the writer: an exchange, a WebSocket frame
 * or an SSE event. It holds references only; `toRecord` does the encoding
 * work in the writer, off the forwarding path.
 */
export interface Capture {
  /** Captured bytes held in memory (reserved in the memory budget). */
  readonly heldBytes: number;
  /** Builds the record to write. */
  toRecord(context: RecordContext): CaptureRecord | Promise<CaptureRecord>;
  /** Returns held bytes to the memory budget once the record is written or dropped. */
  release(): void;
}
