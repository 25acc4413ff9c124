/**
 * Responses on Bun that plugins shape: a direct answer from a plugin, and a
 * response whose body onResponseBody hooks see whole before it is sent.
 */
import { concatBytes } from "../../shared/bytes.ts";
import type { Exchange } from "../../core/exchange.ts";
import { responseInit } from "./responses.ts";

/** The exchange's direct response (a plugin answered, or failed closed), accounted and finished. */
export function directResponse(exchange: Exchange): Response {
  const { head, body } = exchange.sendDirect();
  exchange.finish();
  return new Response(body as Uint8Array<ArrayBuffer>, responseInit(head));
}

/**
 * Reads a held response body up to the exchange's hold limit and answers
 * with what the onResponseBody hooks made of it; a larger body is streamed
 * on unchanged.
 */
export async function heldResponse(
  exchange: Exchange,
  source: AsyncIterable<Uint8Array>,
  cancel: () => void,
): Promise<Response> {
  const held: Uint8Array[] = [];
  let size = 0;
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      held.push(next.value);
      size += next.value.byteLength;
      if (size > exchange.holdLimit) return streamOn(exchange, { held, iterator, cancel });
    }
  } catch (error) {
    exchange.finish({ error });
    throw error;
  }
  const reply = exchange.releaseHeldResponse(concatBytes(held));
  exchange.finish();
  return new Response(reply.body as Uint8Array<ArrayBuffer>, responseInit(reply.head));
}

/** A response body read in part for the hooks before it outgrew the hold limit. */
interface OutgrownBody {
  /** The chunks read so far, sent first. */
  held: Uint8Array[];
  /** The rest of the body. */
  iterator: AsyncIterator<Uint8Array>;
  /** Stops the upstream when the client goes away. */
  cancel: () => void;
}

/** Streams a body that outgrew the hold limit on unchanged, through the tee. */
function streamOn(exchange: Exchange, { held, iterator, cancel }: OutgrownBody): Response {
  const head = exchange.abandonHold();
  let ended = false;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of held) {
        const out = exchange.responseChunk(chunk);
        if (out !== undefined) controller.enqueue(out);
      }
    },
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) {
          ended = true;
          exchange.finish();
          controller.close();
          return;
        }
        const out = exchange.responseChunk(next.value);
        if (out !== undefined) controller.enqueue(out);
      } catch (error) {
        ended = true;
        exchange.finish({ error });
        controller.error(error);
      }
    },
    cancel() {
      if (!ended) exchange.finish({ clientGone: true });
      cancel();
    },
  });
  return new Response(stream, responseInit(head));
}
