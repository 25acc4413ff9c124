import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryBudget } from "../../../src/capture/memory-budget.ts";
import { SseEventCapture, type SseEventStart } from "../../../src/capture/sse-event-capture.ts";
import { assertValidRecord } from "../core/fixture.ts";

const CONNECTION = "0b6f1a52-1c1e-4a8e-9d0e-3c1d7b2f9a10";

function start(extra: Partial<SseEventStart> = {}): SseEventStart {
  return { routeName: "api", connectionId: CONNECTION, tDeltaMs: 1.5, event: "message", data: "hello", ...extra };
}

test("an event becomes an sse_event record with its fields", () => {
  const budget = new MemoryBudget(1 << 20);
  const before = Date.now();
  const capture = new SseEventCapture(
    start({ event: "update", data: "line 1\nline 2", idField: "42", retry: 3000, tDeltaMs: 12.3456789 }),
    1024,
    budget,
  );
  const record = capture.toRecord();
  assert.equal(record.type, "sse_event");
  assert.equal(record.v, 1);
  assert.equal(record.id, capture.id);
  assert.match(record.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(record.route_name, "api");
  assert.equal(record.connection_id, CONNECTION);
  assert.equal(record.event, "update");
  assert.equal(record.data, "line 1\nline 2");
  assert.equal(record.id_field, "42");
  assert.equal(record.retry, 3000);
  assert.equal(record.t_delta_ms, 12.346, "rounded to microseconds");
  assert.equal(record.data_truncated, undefined);
  const at = Date.parse(record.timestamp);
  assert.ok(at >= before && at <= Date.now(), record.timestamp);
  assertValidRecord(record);
});

test("absent id and retry are omitted; an empty id is kept", () => {
  const budget = new MemoryBudget(1 << 20);
  const plain = new SseEventCapture(start(), 1024, budget).toRecord();
  assert.equal("id_field" in plain, false);
  assert.equal("retry" in plain, false);
  assert.equal("data_truncated" in plain, false);
  assertValidRecord(plain);
  const emptyId = new SseEventCapture(start({ idField: "" }), 1024, budget).toRecord();
  assert.equal(emptyId.id_field, "", "an empty id: field resets the last event id, so it is worth keeping");
  assertValidRecord(emptyId);
});

test("empty data reserves nothing and is not truncated", () => {
  const budget = new MemoryBudget(1 << 20);
  const capture = new SseEventCapture(start({ data: "" }), 0, budget);
  assert.equal(capture.heldBytes, 0);
  assert.equal(capture.truncated, false);
  assert.equal(capture.budgetExhausted, false);
  const record = capture.toRecord();
  assert.equal(record.data, "");
  assert.equal(record.data_truncated, undefined);
  assertValidRecord(record);
});

test("data over maxBodySize is cut to that many characters and flagged", () => {
  const budget = new MemoryBudget(1 << 20);
  const capture = new SseEventCapture(start({ data: "0123456789" }), 4, budget);
  assert.equal(capture.truncated, true);
  assert.equal(capture.budgetExhausted, false);
  assert.equal(capture.heldBytes, 4);
  assert.equal(budget.used, 4);
  const record = capture.toRecord();
  assert.equal(record.data, "0123");
  assert.equal(record.data_truncated, true);
  assertValidRecord(record);
});

test("the memory budget cuts the data, is flagged as budget exhaustion, and is given back on release", () => {
  const budget = new MemoryBudget(6);
  const first = new SseEventCapture(start({ data: "abcd" }), 1024, budget);
  const second = new SseEventCapture(start({ data: "efgh" }), 1024, budget);
  const third = new SseEventCapture(start({ data: "ijkl" }), 1024, budget);
  assert.equal(budget.used, 6);
  assert.equal(first.budgetExhausted, false);
  assert.equal(second.budgetExhausted, true);
  assert.equal(second.heldBytes, 2);
  assert.equal(second.toRecord().data, "ef");
  assert.equal(second.toRecord().data_truncated, true);
  assert.equal(third.budgetExhausted, true);
  assert.equal(third.heldBytes, 0);
  assert.equal(third.toRecord().data, "");
  assert.equal(third.toRecord().data_truncated, true);

  first.release();
  assert.equal(budget.used, 2);
  first.release();
  assert.equal(budget.used, 2, "a second release gives nothing back twice");
  second.release();
  third.release();
  assert.equal(budget.used, 0);
});

test("data at exactly maxBodySize is whole", () => {
  const budget = new MemoryBudget(1 << 20);
  const capture = new SseEventCapture(start({ data: "abcd" }), 4, budget);
  assert.equal(capture.truncated, false);
  assert.equal(capture.toRecord().data, "abcd");
});
