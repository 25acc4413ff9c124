import type { HttpCapture } from "../capture/http-capture.ts";
import { GrpcFramer, type GrpcMessage } from "../capture/grpc-framer.ts";
import { GrpcMessageCapture } from "../capture/grpc-message-capture.ts";
import type { RecordHook } from "../capture/record-hook.ts";
import type { FrameDirection } from "../shared/record.ts";
import type { RouteContext } from "./route-context.ts";

/**
 * Splits a gRPC call's request and response bodies into messages as they
 * pass and turns each into a `grpc_message` record at once, like WebSocket
 * frames: a server-streaming message is recorded when it reaches the client,
 * not when the call ends. The bodies themselves are still captured whole.
 */
export class GrpcTap {
  readonly #route: RouteContext;
  readonly #capture: HttpCapture;
  readonly #plugins: RecordHook | undefined;
  readonly #startMono = performance.now();
  readonly #requests: GrpcFramer;
  readonly #responses: GrpcFramer;
  #seq = 0;

  /** @param plugins the plugin set of the exchange, whose onCapture sees each message */
  constructor(route: RouteContext, capture: HttpCapture, plugins?: RecordHook) {
    this.#route = route;
    this.#capture = capture;
    this.#plugins = plugins;
    const keep = route.deps.maxBodySize;
    this.#requests = new GrpcFramer(keep, (message) => this.#record("client_to_server", message));
    this.#responses = new GrpcFramer(keep, (message) => this.#record("server_to_client", message));
  }

  /** A chunk of the request body on its way to the upstream. */
  request(chunk: Uint8Array): void {
    this.#requests.push(chunk);
  }

  /** A chunk of the response body on its way to the client. */
  response(chunk: Uint8Array): void {
    this.#responses.push(chunk);
  }

  #record(direction: FrameDirection, message: GrpcMessage): void {
    const { metrics, sinks, pipeline, maxBodySize, budget } = this.#route.deps;
    const capture = new GrpcMessageCapture(
      {
        routeName: this.#route.name,
        connectionId: this.#capture.id,
        direction,
        seq: this.#seq++,
        tDeltaMs: performance.now() - this.#startMono,
        path: this.#capture.start.url,
      },
      message,
      { maxBodySize, budget },
    );
    if (capture.budgetExhausted) metrics.captureBudgetTruncations++;
    pipeline.submit({ capture, sinks, metrics, plugins: this.#plugins });
  }
}
