/** Capture records for the SQLite sink tests and their Deno/Bun driver. */
import type { HttpRecord, SseEventRecord, WebSocketFrameRecord } from "../../../src/shared/record.ts";

/** Bytes that are not UTF-8 text: a PNG signature and every byte value. */
export const BINARY_BODY: Uint8Array = new Uint8Array([
  0x89,
  0x50,
  0x4e,
  0x47,
  0x0d,
  0x0a,
  0x1a,
  0x0a,
  ...Array.from({ length: 256 }, (_, i) => i),
]);

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** An http record with a text request body and, when `binary`, a base64 response body. */
export function httpRecord(url: string, options: { binary?: boolean; noResponse?: boolean } = {}): HttpRecord {
  const record: HttpRecord = {
    type: "http",
    v: 1,
    id: crypto.randomUUID(),
    route_name: "api",
    correlation_id: "corr-1",
    timestamp: new Date().toISOString(),
    duration_ms: 12.5,
    ttfb_request_ms: 0.5,
    ttfb_response_ms: 3.25,
    client_ip: "127.0.0.1:50000",
    upstream: "http://127.0.0.1:9000",
    request: {
      method: "POST",
      url,
      headers: {
        "Content-Type": ["application/json"],
        "Content-Length": ["21"],
        Authorization: ["Bearer abc"],
        Cookie: ["a=1"],
        "User-Agent": ["test-agent/1.0"],
        Accept: ["*/*"],
        Referer: ["http://example.test/"],
        Origin: ["http://example.test"],
        "X-Forwarded-For": ["10.0.0.1"],
        "X-Request-Id": ["corr-1"],
        Host: ["example.test"],
      },
      body: '{"grüße":"κόσμε"}',
      body_size: 21,
    },
    tags: { team: "blue" },
  };
  if (options.noResponse) {
    record.error = "upstream refused";
    return record;
  }
  record.response = {
    status: 200,
    status_text: "OK",
    headers: {
      "Content-Type": [options.binary ? "image/png" : "text/plain"],
      "Content-Length": ["264"],
      "Content-Encoding": ["identity"],
      "Set-Cookie": ["s=1; Path=/", "t=2"],
      Location: ["/next"],
      "Cache-Control": ["no-store"],
      Etag: ['"v1"'],
      "Last-Modified": ["Wed, 21 Oct 2015 07:28:00 GMT"],
      "Www-Authenticate": ["Basic"],
      "X-Request-Id": ["corr-1"],
    },
    ...(options.binary
      ? { body: base64(BINARY_BODY), body_base64: true, body_size: BINARY_BODY.length }
      : { body: "plain text\nline two", body_size: 19 }),
  };
  return record;
}

/** A WebSocket frame record; binary frames carry `BINARY_BODY` as base64. */
export function frameRecord(connectionId: string, binary = false): WebSocketFrameRecord {
  return {
    type: "websocket_frame",
    v: 1,
    id: crypto.randomUUID(),
    route_name: "api",
    connection_id: connectionId,
    timestamp: new Date().toISOString(),
    direction: binary ? "server_to_client" : "client_to_server",
    opcode: binary ? 2 : 1,
    opcode_name: binary ? "binary" : "text",
    ...(binary
      ? { payload: base64(BINARY_BODY), payload_base64: true, payload_size: BINARY_BODY.length }
      : { payload: "hello", payload_size: 5 }),
  };
}

/** A close frame with code and reason. */
export function closeFrameRecord(connectionId: string): WebSocketFrameRecord {
  return {
    type: "websocket_frame",
    v: 1,
    id: crypto.randomUUID(),
    route_name: "api",
    connection_id: connectionId,
    timestamp: new Date().toISOString(),
    direction: "server_to_client",
    opcode: 8,
    opcode_name: "close",
    payload_size: 6,
    close_code: 1000,
    close_reason: "bye",
  };
}

/** A Server-Sent Event record. */
export function sseRecord(connectionId: string, n: number): SseEventRecord {
  return {
    type: "sse_event",
    v: 1,
    id: crypto.randomUUID(),
    route_name: "api",
    connection_id: connectionId,
    timestamp: new Date().toISOString(),
    t_delta_ms: n * 10,
    event: "tick",
    data: `{"n":${n}}`,
    id_field: String(n),
    retry: 1500,
  };
}
