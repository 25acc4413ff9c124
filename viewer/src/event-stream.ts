/**
 * Reads a `text/event-stream` answer of the API through fetch (EventSource
 * cannot send an Authorization header), one callback per event.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { request } from "./api.ts";

/** Follows `path` until the stream ends or `signal` aborts; resolves when it ends. */
export async function readEvents(
  path: string,
  signal: AbortSignal,
  onEvent: (event: EventSourceMessage) => void,
  headers: Record<string, string> = {},
): Promise<void> {
  const response = await request(path, { signal, headers });
  if (!response.body) return;
  const parser = createParser({ onEvent });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.feed(value);
    }
  } finally {
    reader.releaseLock();
  }
}
