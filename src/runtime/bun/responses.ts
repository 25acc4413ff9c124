/** Web Responses on Bun from the heads and bodies the exchange decides on. */
import type { Exchange } from "../../core/exchange.ts";
import type { ResponseHead } from "../../core/hooks.ts";
import { headerPairs } from "../../shared/raw-headers.ts";

/** The status line and headers of `head` as a ResponseInit. */
export function responseInit(head: ResponseHead): ResponseInit {
  return { status: head.status, statusText: head.statusText, headers: headerPairs(head.headers) };
}

/** The exchange's 502 for an upstream that failed before it answered, accounted and finished. */
export function badGatewayResponse(exchange: Exchange, error: unknown): Response {
  const { head, body } = exchange.badGateway(error);
  exchange.responseChunk(body);
  exchange.finish();
  return new Response(body as Uint8Array<ArrayBuffer>, responseInit(head));
}
