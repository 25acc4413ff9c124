/**
 * Forwarding on Bun through node:http for the requests Bun's fetch would
 * alter: fetch adds `User-Agent: Bun/<version>` and an `Accept` of any type when a
 * request has none, and no option removes them, while Bun's node:http client
 * sends the headers as given. fetch stays the fast path for everything else.
 */
import http from "node:http";
import https from "node:https";
import { concatBytes } from "../../shared/bytes.ts";
import type { Exchange } from "../../core/exchange.ts";
import { headerValue, type RawHeaders } from "../../shared/raw-headers.ts";
import type { UpstreamOptions } from "../types.ts";
import { heldResponse } from "./hooked-response.ts";
import { badGatewayResponse, responseInit } from "./responses.ts";

/** Whether Bun's fetch would add a header this request does not have. */
export function fetchWouldAddHeaders(headers: RawHeaders): boolean {
  return headerValue(headers, "user-agent") === undefined || headerValue(headers, "accept") === undefined;
}

function headerObject(headers: RawHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const previous = out[name];
    if (previous === undefined) out[name] = headers[i + 1]!;
    else if (Array.isArray(previous)) previous.push(headers[i + 1]!);
    else out[name] = [previous, headers[i + 1]!];
  }
  return out;
}

/** Bodies of known length up to this size, and typed (see index.ts), are read whole. */
const WHOLE_BODY_LIMIT = 64 * 1024;

function readableWhole(headers: http.IncomingHttpHeaders): boolean {
  const length = headers["content-length"];
  return length !== undefined && Number(length) <= WHOLE_BODY_LIMIT && headers["content-type"] !== undefined;
}

/** Upstream connections kept alive per origin, like the fetch path's pool. */
const agents = new Map<string, http.Agent>();

function agentFor(url: URL, options: UpstreamOptions): http.Agent {
  const key = `${url.origin} ${options.insecureSkipVerify}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = url.protocol === "https:"
      ? new https.Agent({ keepAlive: true, rejectUnauthorized: !options.insecureSkipVerify })
      : new http.Agent({ keepAlive: true });
    agents.set(key, agent);
  }
  return agent;
}

/** One exchange to forward with node:http. */
export interface NodeHttpForward {
  /** The client's request; its abort signal cuts the upstream request. */
  request: Request;
  exchange: Exchange;
  /** The request body as the exchange passes it on (after any onRequestBody hooks). */
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  upstreamOptions: UpstreamOptions;
}

/** Forwards one exchange with node:http and streams the response back through the tee. */
export function forwardWithNodeHttp(
  { request, exchange, body, upstreamOptions }: NodeHttpForward,
): Promise<Response> {
  const upstream = exchange.route.upstream;
  const client = upstream.protocol === "https:" ? https : http;
  return new Promise<Response>((resolve) => {
    let answered = false;
    let clientGone = false;
    const outgoing = client.request({
      protocol: upstream.protocol,
      hostname: upstream.hostname.replace(/^\[|\]$/g, ""),
      port: upstream.port || undefined,
      method: exchange.upstreamMethod,
      path: exchange.upstreamTarget,
      headers: headerObject(exchange.upstreamHeaders),
      agent: agentFor(upstream, upstreamOptions),
      setHost: false,
    });
    outgoing.on("response", (incoming) => {
      answered = true;
      const head = exchange.responseHead(incoming.statusCode ?? 502, incoming.statusMessage ?? "", incoming.rawHeaders);
      const init = responseInit(head);
      const failed = (error: Error) => exchange.finish(clientGone ? { clientGone } : { error });
      const bodyless = exchange.upstreamMethod === "HEAD" || head.status === 204 || head.status === 304;
      if (!bodyless && exchange.holdsResponseBody) {
        heldResponse(exchange, incoming, () => incoming.destroy()).then(resolve, () => {
          resolve(new Response(null, { status: 502, statusText: "Bad Gateway" }));
        });
        return;
      }
      if (bodyless || readableWhole(incoming.headers)) {
        // Small typed bodies are read whole, as on the fetch path: a stream per response costs throughput on Bun.
        const chunks: Uint8Array[] = [];
        incoming.on("data", (chunk: Uint8Array) => {
          const out = exchange.responseChunk(chunk);
          if (out !== undefined) chunks.push(out);
        });
        incoming.on("end", () => {
          const tail = exchange.responseEnd();
          if (tail !== undefined) chunks.push(tail);
          exchange.finish();
          resolve(new Response(bodyless ? null : concatBytes(chunks) as Uint8Array<ArrayBuffer>, init));
        });
        incoming.on("error", (error: Error) => {
          failed(error);
          resolve(new Response(null, { status: 502, statusText: "Bad Gateway" }));
        });
        return;
      }
      let ended = false;
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          incoming.on("data", (chunk: Uint8Array) => {
            const out = exchange.responseChunk(chunk);
            if (out !== undefined) controller.enqueue(out);
            // Stop reading the upstream while the client is slower than it.
            if ((controller.desiredSize ?? 1) <= 0) incoming.pause();
          });
          incoming.on("end", () => {
            ended = true;
            const tail = exchange.responseEnd();
            if (tail !== undefined) controller.enqueue(tail);
            exchange.finish();
            controller.close();
          });
          incoming.on("error", (error: Error) => {
            ended = true;
            failed(error);
            controller.error(error);
          });
        },
        pull() {
          incoming.resume();
        },
        cancel() {
          if (!ended) exchange.finish({ clientGone: true });
          incoming.destroy();
        },
      });
      resolve(new Response(stream, init));
    });
    outgoing.on("error", (error: Error) => {
      if (answered) return;
      answered = true;
      if (clientGone) {
        exchange.finish({ clientGone });
        resolve(new Response(null, { status: 499 }));
        return;
      }
      resolve(badGatewayResponse(exchange, error));
    });
    request.signal.addEventListener("abort", () => {
      clientGone = true;
      outgoing.destroy(new Error("Client disconnected"));
    });
    void writeBody(outgoing, body);
  });
}

async function writeBody(outgoing: http.ClientRequest, body: Uint8Array | ReadableStream<Uint8Array> | null) {
  if (body === null) {
    outgoing.end();
    return;
  }
  if (body instanceof Uint8Array) {
    outgoing.end(body);
    return;
  }
  try {
    for await (const chunk of body) {
      if (!outgoing.write(chunk)) await new Promise((resolve) => outgoing.once("drain", resolve));
    }
    outgoing.end();
  } catch (error) {
    outgoing.destroy(error as Error);
  }
}
