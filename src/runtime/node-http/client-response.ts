/**
 * What the node:http forwarding path writes a response to: a node:http
 * response as it is, or an HTTP/2 one wrapped to behave the same.
 */
import type http2 from "node:http2";
import { headerValue, type RawHeaders } from "../../shared/raw-headers.ts";

/** A gRPC response head that already carries the status: the whole response (gRPC over HTTP/2, "Trailers-Only"). */
function isTrailersOnly(headers: RawHeaders): boolean {
  return headerValue(headers, "grpc-status") !== undefined &&
    /^\s*application\/grpc/i.test(headerValue(headers, "content-type") ?? "");
}

/** The parts of a node:http response this adapter writes; an HTTP/2 one is wrapped to match. */
export interface ClientResponse {
  writeHead(status: number, statusText: string | undefined, headers: RawHeaders): unknown;
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): unknown;
  addTrailers(pairs: Array<[string, string]>): void;
  on(event: "drain", listener: () => void): unknown;
  once(event: "close", listener: () => void): unknown;
  destroy(error?: Error): unknown;
}

/**
 * An HTTP/2 response as a ClientResponse: no status text (RFC 9113 §8.3.2),
 * trailers as an object, and trailers even after a body sent whole. A gRPC
 * Trailers-Only response (an error without messages: `grpc-status` in the
 * head) stays one HEADERS frame with END_STREAM, which gRPC clients require.
 */
export class Http2Reply implements ClientResponse {
  readonly #res: http2.Http2ServerResponse;
  /** A gRPC Trailers-Only head, held until the end to be sent as one HEADERS frame with END_STREAM. */
  #trailersOnly: { status: number; headers: RawHeaders } | undefined;

  constructor(res: http2.Http2ServerResponse) {
    this.#res = res;
    res.sendDate = false;
  }

  writeHead(status: number, _statusText: string | undefined, headers: RawHeaders): unknown {
    if (isTrailersOnly(headers)) {
      this.#trailersOnly = { status, headers };
      return this;
    }
    return this.#sendHead(status, headers);
  }

  write(chunk: Uint8Array): boolean {
    this.#flushHead();
    return this.#res.write(chunk);
  }

  end(chunk?: Uint8Array): unknown {
    const head = this.#trailersOnly;
    if (head !== undefined && (chunk === undefined || chunk.byteLength === 0)) {
      this.#trailersOnly = undefined;
      // One HEADERS frame with END_STREAM, as the upstream sent it: the compat API would add an empty DATA frame.
      const fields: http2.OutgoingHttpHeaders = { ":status": head.status };
      for (let i = 0; i + 1 < head.headers.length; i += 2) {
        const name = head.headers[i]!.toLowerCase();
        const previous = fields[name];
        fields[name] = previous === undefined
          ? head.headers[i + 1]!
          : [...[previous].flat().map(String), head.headers[i + 1]!];
      }
      this.#res.stream.respond(fields, { endStream: true });
      return this;
    }
    this.#flushHead();
    return chunk === undefined ? this.#res.end() : this.#res.end(chunk);
  }

  addTrailers(pairs: Array<[string, string]>): void {
    this.#flushHead();
    const trailers: Record<string, string[]> = {};
    for (const [name, value] of pairs) (trailers[name.toLowerCase()] ??= []).push(value);
    this.#res.addTrailers(trailers);
  }

  #sendHead(status: number, headers: RawHeaders): unknown {
    // Node's types leave out the flat [name, value, ...] list its compat API takes.
    return this.#res.writeHead(status, headers as unknown as http2.OutgoingHttpHeaders);
  }

  /** A head held as Trailers-Only turned out to have a body after all: it goes out as an ordinary head. */
  #flushHead(): void {
    const head = this.#trailersOnly;
    if (head === undefined) return;
    this.#trailersOnly = undefined;
    this.#sendHead(head.status, head.headers);
  }

  on(event: "drain", listener: () => void): unknown {
    return this.#res.on(event, listener);
  }

  once(event: "close", listener: () => void): unknown {
    return this.#res.once(event, listener);
  }

  destroy(error?: Error): unknown {
    return this.#res.destroy(error);
  }
}
