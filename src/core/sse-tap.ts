import { createParser, type EventSourceMessage, type EventSourceParser } from "eventsource-parser";
import type { HttpCapture } from "../capture/http-capture.ts";
import { SseEventCapture } from "../capture/sse-event-capture.ts";
import type { RawHeaders } from "../shared/raw-headers.ts";
import { headerValue } from "../shared/raw-headers.ts";
import { isIdentityEncoded } from "./headers.ts";
import type { RecordHook } from "../capture/record-hook.ts";
import type { RouteContext } from "./route-context.ts";

/**
 * Most a single event may buffer while it is incomplete; past it the parser
 * drops that event and starts over, so a stream without blank lines cannot
 * grow memory without bound.
 */
const MAX_PENDING_EVENT_CHARS = 16 * 1024 * 1024;

/** Whether a response is an event stream tapline can parse as it passes. */
export function isEventStream(headers: RawHeaders): boolean {
  const type = headerValue(headers, "content-type");
  if (type === undefined || !/^\s*text\/event-stream\s*(;|$)/i.test(type)) return false;
  // A compressed stream would need inflating chunk by chunk; its bytes are still captured as the body.
  return isIdentityEncoded(headers);
}

/**
 * Parses an event-stream response as its chunks pass and turns each event
 * into an `sse_event` record at once (not at the end of the stream). The
 * parser is fed directly, not through a stream pipeline: measured 10-20x
 * cheaper on Node 20.
 */
export class SseTap {
  /** Events seen so far. */
  events = 0;
  readonly #route: RouteContext;
  readonly #capture: HttpCapture | undefined;
  readonly #plugins: RecordHook | undefined;
  readonly #startMono = performance.now();
  readonly #decoder = new TextDecoder();
  readonly #parser: EventSourceParser;
  #retry: number | undefined;
  #ended = false;
  /** The last chunk ended in CR: an LF starting the next one belongs to that line break. */
  #skipLf = false;

  /** @param plugins the plugin set of the exchange, whose onCapture sees each event */
  constructor(route: RouteContext, capture: HttpCapture | undefined, plugins?: RecordHook) {
    this.#route = route;
    this.#capture = capture;
    this.#plugins = plugins;
    route.deps.metrics.sseStreamsTotal++;
    route.deps.metrics.sseStreamsActive++;
    this.#parser = createParser({
      onEvent: (event) => this.#onEvent(event),
      onRetry: (retry) => (this.#retry = retry),
      onError: (error) => {
        if (error.type === "max-buffer-size-exceeded") this.#parser.reset();
      },
      maxBufferSize: MAX_PENDING_EVENT_CHARS,
    });
  }

  /** A chunk of the response body on its way to the client. */
  chunk(bytes: Uint8Array): void {
    if (this.#ended) return;
    let text = this.#decoder.decode(bytes, { stream: true });
    if (text === "") return;
    if (this.#skipLf) {
      this.#skipLf = false;
      if (text.charCodeAt(0) === 10) {
        text = text.slice(1);
        if (text === "") return;
      }
    }
    // A lone CR ends a line, but the parser waits for the next chunk to rule
    // out CRLF; ending the line now records the event as it passes.
    this.#skipLf = text.charCodeAt(text.length - 1) === 13;
    this.#parser.feed(this.#skipLf ? text + "\n" : text);
  }

  /** The stream ended (or broke): an unterminated last event is not an event, as for a browser. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#route.deps.metrics.sseStreamsActive--;
    if (this.#capture) this.#capture.sseEvents = this.events;
  }

  #onEvent(event: EventSourceMessage): void {
    this.events++;
    const { metrics, sinks, pipeline, maxBodySize, budget } = this.#route.deps;
    metrics.sseEvents++;
    const capture = this.#capture;
    if (!capture) return;
    const eventCapture = new SseEventCapture(
      {
        routeName: this.#route.name,
        connectionId: capture.id,
        tDeltaMs: performance.now() - this.#startMono,
        event: event.event ?? "message",
        data: event.data,
        idField: event.id,
        retry: this.#retry,
      },
      maxBodySize,
      budget,
    );
    this.#retry = undefined;
    if (eventCapture.budgetExhausted) metrics.captureBudgetTruncations++;
    pipeline.submit({ capture: eventCapture, sinks, metrics, plugins: this.#plugins });
  }
}
