import type { RawHeaders } from "../shared/raw-headers.ts";
import { BodyCapture } from "./body-capture.ts";
import type { Capture, CaptureLimits, RecordContext } from "./capture.ts";
import { buildHttpRecord, type FinishedExchange, type HttpCaptureStart } from "./http-record.ts";
import type { HttpRecord } from "../shared/record.ts";

/**
 * The raw state of one exchange's capture while it is in flight. It holds
 * references only; turning it into a record (text, base64, decoding, JSON)
 * happens in the writer, off the forwarding path.
 */
export class HttpCapture implements Capture, FinishedExchange {
  /** The exchange id (a WebSocket's frames carry it as `connection_id`). */
  readonly id: string;
  readonly start: HttpCaptureStart;
  /** Wall-clock start, epoch ms. */
  readonly startedAt = Date.now();
  /** Monotonic start, for durations. */
  readonly startMono = performance.now();
  readonly request: BodyCapture;
  readonly response: BodyCapture;
  requestEndMs = -1;
  responseHeadMs = -1;
  endMs = -1;
  status = 0;
  statusText = "";
  responseHeaders: RawHeaders | undefined;
  requestTrailers: RawHeaders | undefined;
  responseTrailers: RawHeaders | undefined;
  error: string | undefined;
  disconnected = false;
  /** Events of an event-stream response; -1 when the response is not one. */
  sseEvents = -1;

  /** @param id the exchange id plugins already saw, when they did */
  constructor(start: HttpCaptureStart, limits: CaptureLimits, id: string = crypto.randomUUID()) {
    this.id = id;
    this.start = start;
    this.request = new BodyCapture(limits.maxBodySize, limits.budget);
    this.response = new BodyCapture(limits.maxBodySize, limits.budget);
  }

  /** Milliseconds since the exchange started. */
  elapsed(): number {
    return performance.now() - this.startMono;
  }

  /** Captured body bytes held in memory. */
  get heldBytes(): number {
    return this.request.captured + this.response.captured;
  }

  toRecord(context: RecordContext): Promise<HttpRecord> {
    return buildHttpRecord(this, context);
  }

  /** Returns captured bytes to the memory budget once the record is written. */
  release(): void {
    this.request.release();
    this.response.release();
  }
}
