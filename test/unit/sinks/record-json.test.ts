import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { RecordContext } from "../../../src/capture/capture.ts";
import { FrameCapture } from "../../../src/capture/frame-capture.ts";
import { MemoryBudget } from "../../../src/capture/memory-budget.ts";
import type { CaptureRecord, CustomRecord, SseEventRecord, WebSocketFrameRecord } from "../../../src/shared/record.ts";
import { SseEventCapture } from "../../../src/capture/sse-event-capture.ts";
import { decompress } from "../../../src/runtime/shared/decompress.ts";
import { keepRecordJson, recordJson } from "../../../src/sinks/record-json.ts";
import { httpRecord } from "./sqlite-records.ts";
import { bytes, repoRoot } from "../core/fixture.ts";

const context: RecordContext = { maxBodySize: 8, decompress };
const budget = new MemoryBudget(1 << 20);
const CONNECTION = "0b6f1a52-1c1e-4a8e-9d0e-3c1d7b2f9a10";

function frame(opcode: "text" | "binary" | "close" | "ping", payload: Uint8Array, close?: [number, string]) {
  return new FrameCapture(
    {
      routeName: 'api "quoted"\n',
      connectionId: CONNECTION,
      direction: "server_to_client",
      opcode,
      ...(close ? { closeCode: close[0], closeReason: close[1] } : {}),
    },
    payload,
    { maxBodySize: 8, budget },
  ).toRecord(context);
}

function event(data: string, extra: { idField?: string; retry?: number } = {}) {
  return new SseEventCapture(
    { routeName: "llm", connectionId: CONNECTION, tDeltaMs: 12.3456789, event: "déltà\t", data, ...extra },
    16,
    budget,
  ).toRecord();
}

test("frame and event records are written exactly as JSON.stringify writes them", () => {
  const records: CaptureRecord[] = [
    frame("text", bytes('he said "hi"\n')),
    frame("text", bytes("short")),
    frame("binary", new Uint8Array([0, 1, 2, 255])),
    frame("ping", new Uint8Array(0)),
    frame("close", new Uint8Array(0), [4001, 'bye "now"\u2028']),
    event("line one\nline two \\ end"),
    event("x", { idField: "42\u0001", retry: 3000 }),
    event("a".repeat(40)),
  ];
  for (const record of records) assert.equal(recordJson(record), JSON.stringify(record));
});

test("plugin tags are written too", () => {
  const withTags = { ...frame("text", bytes("t")), tags: { team: "a", n: [1, 2] } } as WebSocketFrameRecord;
  assert.equal(recordJson(withTags), JSON.stringify(withTags));
  const eventTags = { ...event("d"), tags: { x: null } } as SseEventRecord;
  assert.equal(recordJson(eventTags), JSON.stringify(eventTags));
});

/** Every property the schema allows for a record type, so a new field cannot be left out of the writer. */
function schemaProperties(type: string): string[] {
  const schema = JSON.parse(readFileSync(join(repoRoot, "schemas/record.schema.json"), "utf8")) as {
    $defs?: Record<string, { properties?: Record<string, { const?: string }> }>;
  };
  const definition = Object.values(schema.$defs ?? {}).find((d) => d.properties?.["type"]?.const === type);
  assert.ok(definition?.properties, `schemas/record.schema.json has no definition with type "${type}"`);
  return Object.keys(definition.properties);
}

test("every schema property of frame and event records is written", () => {
  const full: Record<string, Record<string, unknown>> = {
    websocket_frame: {
      type: "websocket_frame",
      v: 1,
      id: "i",
      route_name: "r",
      connection_id: "c",
      timestamp: "t",
      direction: "client_to_server",
      opcode: 8,
      opcode_name: "close",
      payload: "p",
      payload_size: 3,
      payload_truncated: true,
      payload_base64: false,
      close_code: 1000,
      close_reason: "why",
      tags: { a: 1 },
      plugin_generation: 2,
    },
    sse_event: {
      type: "sse_event",
      v: 1,
      id: "i",
      route_name: "r",
      connection_id: "c",
      timestamp: "t",
      t_delta_ms: 1.5,
      event: "message",
      data: "d",
      data_truncated: true,
      id_field: "7",
      retry: 10,
      tags: { a: 1 },
      plugin_generation: 2,
    },
  };
  for (const [type, record] of Object.entries(full)) {
    assert.deepEqual(Object.keys(record).sort(), schemaProperties(type).sort(), `test record of ${type} is complete`);
    assert.deepEqual(JSON.parse(recordJson(record as unknown as CaptureRecord)), record, type);
  }
});

/** A custom record using every field, as src/capture/record.ts types it. */
function customRecord(): CustomRecord {
  return {
    type: "custom",
    v: 1,
    id: "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c",
    route_name: "llm",
    timestamp: "2025-01-31T12:00:03.250Z",
    plugin: "usage",
    connection_id: CONNECTION,
    plugin_generation: 3,
    data: { model: "gpt-x", usage: { input: 12, output: 340 }, note: 'a "quoted"\nline', none: null },
  };
}

test("custom records are written with JSON.stringify, every schema property included", () => {
  const record = customRecord();
  assert.equal(recordJson(record), JSON.stringify(record));
  assert.deepEqual(Object.keys(record).sort(), schemaProperties("custom").sort());
  const scalar: CustomRecord = { ...record, data: 42 };
  assert.equal(recordJson(scalar), JSON.stringify(scalar));
});

test("the record schema accepts a custom record and rejects one without plugin or with extra fields", () => {
  const schema = JSON.parse(readFileSync(join(repoRoot, "schemas/record.schema.json"), "utf8")) as object;
  const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);
  const record = customRecord();
  assert.ok(validate(JSON.parse(recordJson(record))), JSON.stringify(validate.errors));
  const { connection_id: _, ...bare } = record;
  for (const data of [bare.data, "text", 7, [1, "two"], null, false]) {
    assert.ok(validate({ ...bare, data }), `data ${JSON.stringify(data)}: ${JSON.stringify(validate.errors)}`);
  }
  const { plugin: __, ...noPlugin } = record;
  assert.equal(validate(noPlugin), false, "a custom record without plugin is rejected");
  assert.ok(validate.errors?.some((e) => e.keyword === "required" && e.params.missingProperty === "plugin"));
  const { data: ___, ...noData } = record;
  assert.equal(validate(noData), false, "a custom record without data is rejected");
  assert.equal(validate({ ...record, tags: { a: 1 } }), false, "unknown fields are rejected");
  assert.equal(validate({ ...record, plugin: "1bad" }), false, "plugin ids follow the id pattern");
});

test("a kept line is reused, and neither JSON nor a copy of the record carries it", () => {
  const record = httpRecord("/kept");
  const plain = JSON.stringify(record);
  keepRecordJson(record);
  const first = recordJson(record);
  assert.equal(first, plain);
  assert.equal(JSON.stringify(record), plain);
  assert.deepEqual(Object.getOwnPropertySymbols({ ...record }), []);
  // A changed copy is encoded afresh, not served the original's line.
  const copy = { ...record, route_name: "other" };
  assert.match(recordJson(copy), /"route_name":"other"/);
  assert.equal(recordJson(record), first);
});
