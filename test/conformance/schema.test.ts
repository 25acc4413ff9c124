/**
 * schemas/record.schema.json against src/capture/record.ts: the same field
 * names at every level (so drift fails here), strict-mode compilation, and
 * the harness's runtime selection. No tapline process needed.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { CapturedBody, HttpRecord, HttpRequestPart, HttpResponsePart } from "../../src/capture/record.ts";
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
  request: true,
  response: true,
  error: true,
  disconnected: true,
  tags: true,
};
const bodyKeys: Record<keyof CapturedBody, true> = {
  body: true,
  body_size: true,
  body_truncated: true,
  body_base64: true,
  body_decoded: true,
  body_decoded_base64: true,
  body_decoded_truncated: true,
};
const requestKeys: Record<Exclude<keyof HttpRequestPart, keyof CapturedBody>, true> = {
  method: true,
  url: true,
  headers: true,
};
const responseKeys: Record<Exclude<keyof HttpResponsePart, keyof CapturedBody>, true> = {
  status: true,
  status_text: true,
  headers: true,
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
    tags: { plugin: { any: ["thing"] } },
  };
}

describe("schemas/record.schema.json", () => {
  test("has exactly the fields of src/capture/record.ts at every level", () => {
    const defs = schema.$defs;
    assert.deepEqual(sorted(defs["HttpRecord"]?.properties), sorted(recordKeys), "HttpRecord");
    assert.deepEqual(sorted(defs["CapturedBody"]?.properties), sorted(bodyKeys), "CapturedBody");
    assert.deepEqual(sorted(defs["HttpRequestPart"]?.properties), sorted(requestKeys), "HttpRequestPart");
    assert.deepEqual(sorted(defs["HttpResponsePart"]?.properties), sorted(responseKeys), "HttpResponsePart");
  });

  test("requires what record.ts requires", () => {
    const required = schema.$defs["HttpRecord"]?.required ?? [];
    const optional = ["correlation_id", "response", "error", "disconnected", "tags"];
    assert.deepEqual([...required].sort(), sorted(recordKeys).filter((k) => !optional.includes(k)));
  });

  test("accepts a record using every field and a minimal one", () => {
    assert.equal(schemaErrors(fullRecord()), undefined);
    const minimal: HttpRecord = {
      ...fullRecord(),
      request: { method: "GET", url: "/", headers: {}, body_size: 0 },
    };
    for (const k of ["correlation_id", "response", "error", "disconnected", "tags"] as const) delete minimal[k];
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
    ];
    for (const [label, mutate] of cases) {
      const r = fullRecord() as unknown as Record<string, unknown>;
      mutate(r);
      assert.notEqual(schemaErrors(r), undefined, `${label} must be rejected`);
    }
  });
});

describe("conformance harness: TAPLINE_RUNTIMES", () => {
  test("defaults to all three runtimes", () => {
    assert.deepEqual(parseRuntimes(undefined), ["node", "deno", "bun"]);
    assert.deepEqual(parseRuntimes(""), ["node", "deno", "bun"]);
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
