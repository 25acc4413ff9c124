/**
 * schemas/record.schema.json against src/capture/record.ts: the same field
 * names at every level (so drift fails here), strict-mode compilation, and
 * the harness's runtime selection. No tapline process needed.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type {
  CapturedBody,
  GrpcMessageRecord,
  HttpRecord,
  HttpRequestPart,
  HttpResponsePart,
  SseEventRecord,
  WebSocketFrameRecord,
} from "../../src/shared/record.ts";
import { schemaErrors } from "./harness/records.ts";
import { parseRuntimes, repoRoot } from "./harness/runtimes.ts";

interface SchemaNode {
  properties?: Record<string, unknown>;
  required?: string[];
}
const schema = JSON.parse(readFileSync(join(repoRoot, "schemas/record.schema.json"), "utf8")) as {
  $defs: Record<string, SchemaNode>;
};

// Each map must list exactly the interface's keys: tsc rejects a missing or an extra one.
const recordKeys: Record<keyof HttpRecord, true> = {
  type: true,
  v: true,
  id: true,
  route_name: true,
  correlation_id: true,
  timestamp: true,
  duration_ms: true,
  ttfb_request_ms: true,
  ttfb_response_ms: true,
  client_ip: true,
  upstream: true,
  http_version: true,
  request: true,
  response: true,
  error: true,
  disconnected: true,
  sse_events: true,
  grpc: true,
  tags: true,
  plugin_generation: true,
};
const frameKeys: Record<keyof WebSocketFrameRecord, true> = {
  type: true,
  v: true,
  id: true,
  route_name: true,
  connection_id: true,
  timestamp: true,
  direction: true,
  opcode: true,
  opcode_name: true,
  payload: true,
  payload_size: true,
  payload_truncated: true,
  payload_base64: true,
  close_code: true,
  close_reason: true,
  tags: true,
  plugin_generation: true,
};
const sseKeys: Record<keyof SseEventRecord, true> = {
  type: true,
  v: true,
  id: true,
  route_name: true,
  connection_id: true,
  timestamp: true,
  t_delta_ms: true,
  event: true,
  data: true,
  data_truncated: true,
  id_field: true,
  retry: true,
  tags: true,
  plugin_generation: true,
};
/** Optional fields per record type (`?` in record.ts); everything else is required. */
const httpOptional = [
  "http_version",
  "correlation_id",
  "response",
  "error",
  "disconnected",
  "sse_events",
  "grpc",
  "tags",
  "plugin_generation",
] as const;
const frameOptional = [
  "payload",
  "payload_truncated",
  "payload_base64",
  "close_code",
  "close_reason",
  "tags",
  "plugin_generation",
] as const;
const sseOptional = ["data_truncated", "id_field", "retry", "tags", "plugin_generation"] as const;
const bodyKeys: Record<keyof CapturedBody, true> = {
  body: true,
  body_size: true,
  body_truncated: true,
  body_base64: true,
  body_decoded: true,
  body_decoded_base64: true,
  body_decoded_truncated: true,
  body_redacted: true,
};
const requestKeys: Record<Exclude<keyof HttpRequestPart, keyof CapturedBody>, true> = {
  method: true,
  url: true,
  headers: true,
  trailers: true,
};
const responseKeys: Record<Exclude<keyof HttpResponsePart, keyof CapturedBody>, true> = {
  status: true,
  status_text: true,
  headers: true,
  trailers: true,
};

const sorted = (o: object | undefined) => Object.keys(o ?? {}).sort();

/** A record using every field, as src/capture/record.ts types it. */
function fullRecord(): HttpRecord {
  return {
    type: "http",
    v: 1,
    id: "0b6f1a52-1c1e-4a8e-9d0e-3c1d7b2f9a10",
    route_name: "api",
    correlation_id: "req-1",
    timestamp: "2025-01-31T12:00:00.123Z",
    duration_ms: 12.5,
    ttfb_request_ms: 0.4,
    ttfb_response_ms: 10,
    client_ip: "127.0.0.1:51234",
    upstream: "http://127.0.0.1:3000",
    http_version: "1.1",
    request: {
      method: "POST",
      url: "/api/x?y=1",
      headers: { Host: ["127.0.0.1:8080"], "X-Dup": ["a", "b"] },
      body: "aGVsbG8=",
      body_size: 5,
      body_truncated: false,
      body_base64: true,
    },
    response: {
      status: 200,
      status_text: "OK",
      headers: { "Content-Encoding": ["gzip"] },
      body: "H4sI",
      body_size: 3,
      body_truncated: true,
      body_base64: true,
      body_decoded: "hello",
      body_decoded_base64: false,
      body_decoded_truncated: false,
    },
    error: "upstream reset",
    disconnected: true,
    sse_events: 3,
    grpc: { service: "test.Echo", method: "Unary", status: 5, message: "not found" },
    tags: { plugin: { any: ["thing"] } },
    plugin_generation: 3,
  };
}

/** A close frame using every field. */
function fullFrame(): WebSocketFrameRecord {
  return {
    type: "websocket_frame",
    v: 1,
    id: "5d0c7a1e-8f43-4b7e-a0d2-6a8e2f1c9b33",
    route_name: "api",
    connection_id: "0b6f1a52-1c1e-4a8e-9d0e-3c1d7b2f9a10",
    timestamp: "2025-01-31T12:00:01.500Z",
    direction: "server_to_client",
    opcode: 8,
    opcode_name: "close",
    payload: "AAE=",
    payload_size: 9,
    payload_truncated: true,
    payload_base64: true,
    close_code: 4000,
    close_reason: "bye",
    tags: { plugin: 1 },
    plugin_generation: 3,
  };
}

/** An event using every field. */
function fullSse(): SseEventRecord {
  return {
    type: "sse_event",
    v: 1,
    id: "9a7e3c2b-0d1f-4e5a-8b6c-7d8e9f0a1b2c",
    route_name: "api",
    connection_id: "0b6f1a52-1c1e-4a8e-9d0e-3c1d7b2f9a10",
    timestamp: "2025-01-31T12:00:02.000Z",
    t_delta_ms: 12.345,
    event: "update",
    data: "line 1\nline 2",
    data_truncated: true,
    id_field: "42",
    retry: 3000,
    tags: { plugin: "x" },
    plugin_generation: 3,
  };
}

/** Schema errors of a record after applying `mutate` to a copy of it. */
function errorsAfter<T>(record: T, mutate: (r: Record<string, unknown>) => void): string | undefined {
  const r = structuredClone(record) as unknown as Record<string, unknown>;
  mutate(r);
  return schemaErrors(r);
}

describe("schemas/record.schema.json", () => {
  test("has exactly the fields of src/capture/record.ts at every level", () => {
    const defs = schema.$defs;
    assert.deepEqual(sorted(defs["HttpRecord"]?.properties), sorted(recordKeys), "HttpRecord");
    assert.deepEqual(sorted(defs["WebSocketFrameRecord"]?.properties), sorted(frameKeys), "WebSocketFrameRecord");
    assert.deepEqual(sorted(defs["SseEventRecord"]?.properties), sorted(sseKeys), "SseEventRecord");
    assert.deepEqual(sorted(defs["CapturedBody"]?.properties), sorted(bodyKeys), "CapturedBody");
    assert.deepEqual(sorted(defs["HttpRequestPart"]?.properties), sorted(requestKeys), "HttpRequestPart");
    assert.deepEqual(sorted(defs["HttpResponsePart"]?.properties), sorted(responseKeys), "HttpResponsePart");
  });

  test("requires what record.ts requires", () => {
    const cases: Array<[string, object, readonly string[]]> = [
      ["HttpRecord", recordKeys, httpOptional],
      ["WebSocketFrameRecord", frameKeys, frameOptional],
      ["SseEventRecord", sseKeys, sseOptional],
    ];
    for (const [def, keys, optional] of cases) {
      const required = schema.$defs[def]?.required ?? [];
      assert.deepEqual([...required].sort(), sorted(keys).filter((k) => !optional.includes(k)), def);
    }
  });

  test("accepts a record using every field and a minimal one", () => {
    assert.equal(schemaErrors(fullRecord()), undefined);
    const minimal: HttpRecord = {
      ...fullRecord(),
      request: { method: "GET", url: "/", headers: {}, body_size: 0 },
    };
    for (const k of httpOptional) delete minimal[k];
    assert.equal(schemaErrors(minimal), undefined);
  });

  test("accepts websocket_frame records of every opcode, full and minimal", () => {
    assert.equal(schemaErrors(fullFrame()), undefined);
    const minimal: WebSocketFrameRecord = fullFrame();
    for (const k of frameOptional) delete minimal[k];
    assert.equal(schemaErrors(minimal), undefined);
    const opcodes = [["text", 1], ["binary", 2], ["ping", 9], ["pong", 10]] as const;
    for (const [opcode_name, opcode] of opcodes) {
      const frame: WebSocketFrameRecord = { ...minimal, opcode, opcode_name, payload: "hi", payload_size: 2 };
      assert.equal(schemaErrors(frame), undefined, opcode_name);
    }
  });

  test("accepts sse_event records, full and minimal", () => {
    assert.equal(schemaErrors(fullSse()), undefined);
    const minimal: SseEventRecord = { ...fullSse(), data: "" };
    for (const k of sseOptional) delete minimal[k];
    assert.equal(schemaErrors(minimal), undefined);
  });

  test("rejects unknown fields, wrong types and missing fields", () => {
    const cases: Array<[string, (r: Record<string, unknown>) => void]> = [
      ["unknown top-level field", (r) => (r["extra"] = 1)],
      ["unknown request field", (r) => ((r["request"] as Record<string, unknown>)["bodySize"] = 1)],
      ["unknown response field", (r) => ((r["response"] as Record<string, unknown>)["decoded"] = "x")],
      ["unknown type", (r) => (r["type"] = "nope")],
      ["v 2", (r) => (r["v"] = 2)],
      ["id not a uuid", (r) => (r["id"] = "abc")],
      ["timestamp not RFC 3339", (r) => (r["timestamp"] = "yesterday")],
      ["negative duration", (r) => (r["duration_ms"] = -1)],
      ["header value not a list", (r) => ((r["request"] as Record<string, unknown>)["headers"] = { Host: "x" })],
      ["status as string", (r) => ((r["response"] as Record<string, unknown>)["status"] = "200")],
      ["missing body_size", (r) => delete (r["request"] as Record<string, unknown>)["body_size"]],
      ["missing upstream", (r) => delete r["upstream"]],
      ["empty error", (r) => (r["error"] = "")],
      ["negative sse_events", (r) => (r["sse_events"] = -1)],
      ["fractional sse_events", (r) => (r["sse_events"] = 1.5)],
      ["frame field on http", (r) => (r["payload_size"] = 1)],
      ["grpc without method", (r) => delete (r["grpc"] as Record<string, unknown>)["method"]],
      ["grpc status as string", (r) => ((r["grpc"] as Record<string, unknown>)["status"] = "5")],
    ];
    for (const [label, mutate] of cases) {
      assert.notEqual(errorsAfter(fullRecord(), mutate), undefined, `${label} must be rejected`);
    }
  });

  test("rejects malformed websocket_frame records", () => {
    const cases: Array<[string, (r: Record<string, unknown>) => void]> = [
      ["unknown field", (r) => (r["extra"] = 1)],
      ["http field", (r) => (r["request"] = {})],
      ["missing connection_id", (r) => delete r["connection_id"]],
      ["connection_id not a uuid", (r) => (r["connection_id"] = "conn-1")],
      ["missing payload_size", (r) => delete r["payload_size"]],
      ["unknown direction", (r) => (r["direction"] = "upstream")],
      ["unknown opcode_name", (r) => (r["opcode_name"] = "continuation")],
      ["opcode not matching its name", (r) => (r["opcode"] = 1)],
      ["opcode as string", (r) => (r["opcode"] = "8")],
      ["close_code on a text frame", (r) => Object.assign(r, { opcode: 1, opcode_name: "text" })],
      ["close_code out of range", (r) => (r["close_code"] = 999)],
      ["payload_base64 without payload", (r) => delete r["payload"]],
      ["negative payload_size", (r) => (r["payload_size"] = -1)],
      ["v 2", (r) => (r["v"] = 2)],
    ];
    for (const [label, mutate] of cases) {
      assert.notEqual(errorsAfter(fullFrame(), mutate), undefined, `${label} must be rejected`);
    }
  });

  test("accepts grpc_message records and rejects malformed ones", () => {
    const message: GrpcMessageRecord = {
      type: "grpc_message",
      v: 1,
      id: "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
      route_name: "api",
      connection_id: "0b6f1a52-1c1e-4a8e-9d0e-3c1d7b2f9a10",
      timestamp: "2025-01-31T12:00:03.000Z",
      direction: "client_to_server",
      seq: 0,
      t_delta_ms: 1.5,
      compressed: false,
      payload_size: 5,
      payload: "aGVsbG8=",
      payload_base64: true,
      payload_truncated: true,
      payload_json: { text: "hello", nested: { n: "9007199254740993" } },
      payload_redacted: true,
      tags: { plugin: 1 },
      plugin_generation: 2,
    };
    assert.equal(schemaErrors(message), undefined);
    const keys: Record<keyof GrpcMessageRecord, true> = {
      type: true,
      v: true,
      id: true,
      route_name: true,
      connection_id: true,
      timestamp: true,
      direction: true,
      seq: true,
      t_delta_ms: true,
      compressed: true,
      payload_size: true,
      payload: true,
      payload_base64: true,
      payload_truncated: true,
      payload_json: true,
      payload_redacted: true,
      tags: true,
      plugin_generation: true,
    };
    assert.deepEqual(sorted(schema.$defs["GrpcMessageRecord"]?.properties), sorted(keys));
    const cases: Array<[string, (r: Record<string, unknown>) => void]> = [
      ["unknown field", (r) => (r["extra"] = 1)],
      ["missing seq", (r) => delete r["seq"]],
      ["negative seq", (r) => (r["seq"] = -1)],
      ["unknown direction", (r) => (r["direction"] = "up")],
      ["compressed as number", (r) => (r["compressed"] = 1)],
      ["payload_base64 false", (r) => (r["payload_base64"] = false)],
    ];
    for (const [label, mutate] of cases) {
      assert.notEqual(errorsAfter(message, mutate), undefined, `${label} must be rejected`);
    }
  });

  test("rejects malformed sse_event records", () => {
    const cases: Array<[string, (r: Record<string, unknown>) => void]> = [
      ["unknown field", (r) => (r["extra"] = 1)],
      ["frame field", (r) => (r["payload_size"] = 1)],
      ["missing event", (r) => delete r["event"]],
      ["empty event", (r) => (r["event"] = "")],
      ["missing data", (r) => delete r["data"]],
      ["missing t_delta_ms", (r) => delete r["t_delta_ms"]],
      ["negative t_delta_ms", (r) => (r["t_delta_ms"] = -1)],
      ["retry as string", (r) => (r["retry"] = "3000")],
      ["fractional retry", (r) => (r["retry"] = 1.5)],
      ["id_field as number", (r) => (r["id_field"] = 42)],
      ["timestamp not RFC 3339", (r) => (r["timestamp"] = "now")],
    ];
    for (const [label, mutate] of cases) {
      assert.notEqual(errorsAfter(fullSse(), mutate), undefined, `${label} must be rejected`);
    }
  });
});

describe("conformance harness: TAPLINE_RUNTIMES", () => {
  test("defaults to all four targets, the single binary included", () => {
    assert.deepEqual(parseRuntimes(undefined), ["node", "deno", "bun", "binary"]);
    assert.deepEqual(parseRuntimes(""), ["node", "deno", "bun", "binary"]);
  });
  test("narrows to the listed runtimes", () => {
    assert.deepEqual(parseRuntimes("node,bun"), ["node", "bun"]);
    assert.deepEqual(parseRuntimes(" deno "), ["deno"]);
  });
  test("an unknown runtime is an error, not a skip", () => {
    assert.throws(() => parseRuntimes("node,dino"), /Unknown runtime "dino"/);
    assert.throws(() => parseRuntimes(","), /names no runtime/);
  });
});
