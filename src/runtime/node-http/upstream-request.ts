/**
 * What the upstream clients besides undici's pool (HTTP/2, and HTTP/1.1 with
 * request trailers) take: one request, and the callbacks its response drives
 * in undici's handler shape, so `UpstreamToClient` serves every client.
 */
import type { Buffer } from "node:buffer";
import type { RawHeaders } from "../../shared/raw-headers.ts";

/** The dispatch callbacks an upstream response drives. */
export interface UpstreamHandler {
  onConnect(abort: (reason?: Error) => void): void;
  onHeaders(status: number, rawHeaders: string[], resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: RawHeaders | null): void;
  onError(error: Error): void;
}

/** One request to send. */
export interface UpstreamRequest {
  method: string;
  path: string;
  headers: RawHeaders;
  body: Uint8Array | AsyncIterable<Uint8Array> | null;
  /** The client's trailers, asked for once the body has been sent. */
  trailers?: () => RawHeaders;
}
