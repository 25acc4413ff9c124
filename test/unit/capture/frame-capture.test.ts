import assert from "node:assert/strict";
import { test } from "node:test";
import type { RecordContext } from "../../../src/capture/capture.ts";
import { FrameCapture, type FrameStart, OPCODES } from "../../../src/capture/frame-capture.ts";
import { MemoryBudget } from "../../../src/capture/memory-budget.ts";
import type { OpcodeName } from "../../../src/shared/record.ts";
import { decompress } from "../../../src/runtime/shared/decompress.ts";
import { assertValidRecord, bytes } from "../core/fixture.ts";

const CONNECTION = "0b6f1a52-1c1e-4a8e-9d0e-3c1d7b2f9a10";
const context: RecordContext = { maxBodySize: 1024, decompress };

function start(opcode: OpcodeName = "text", extra: Partial<FrameStart> = {}): FrameStart {
  return { routeName: "api", connectionId: CONNECTION, direction: "client_to_server", opcode, ...extra };
}

test("a text payload is recorded as text with the frame's identity", () => {
  const budget = new MemoryBudget(1 << 20);
  const before = Date.now();
  const capture = new FrameCapture(start("text"), bytes("héllo\tworld\r\n"), { maxBodySize: 1024, budget });
  const record = capture.toRecord(context);
  assert.equal(record.type, "websocket_frame");
  assert.equal(record.v, 1);
  assert.equal(record.id, capture.id);
  assert.match(record.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(record.route_name, "api");
  assert.equal(record.connection_id, CONNECTION);
  assert.equal(record.direction, "client_to_server");
  assert.equal(record.payload, "héllo\tworld\r\n");
  assert.equal(record.payload_size, 14, "bytes, not characters");
  assert.equal(record.payload_base64, undefined);
  assert.equal(record.payload_truncated, undefined);
  assert.equal(record.close_code, undefined);
  assert.equal(record.close_reason, undefined);
  const at = Date.parse(record.timestamp);
  assert.ok(at >= before && at <= Date.now(), record.timestamp);
  assertValidRecord(record);
});

test("binary and control-byte payloads are base64; printable binary stays text", () => {
  const budget = new MemoryBudget(1 << 20);
  const binary = new FrameCapture(
    start("binary", { direction: "server_to_client" }),
    new Uint8Array([0, 1, 2, 0xff]),
    { maxBodySize: 1024, budget },
  ).toRecord(context);
  assert.equal(binary.payload, "AAEC/w==");
  assert.equal(binary.payload_base64, true);
  assert.equal(binary.payload_size, 4);
  assert.equal(binary.direction, "server_to_client");
  assertValidRecord(binary);

  const control = new FrameCapture(start("text"), bytes("bell\x07"), { maxBodySize: 1024, budget }).toRecord(context);
  assert.equal(control.payload_base64, true);
  assert.equal(atob(control.payload!), "bell\x07");

  const invalidUtf8 = new FrameCapture(start("text"), new Uint8Array([0x61, 0xc3]), { maxBodySize: 1024, budget })
    .toRecord(context);
  assert.equal(invalidUtf8.payload_base64, true, "a cut sequence at the end of a whole payload is not text");

  const printable = new FrameCapture(start("binary"), bytes("plain"), { maxBodySize: 1024, budget }).toRecord(context);
  assert.equal(printable.payload, "plain");
  assert.equal(printable.payload_base64, undefined);
});

test("the runtime's base64 encoder is used when the context has one", () => {
  const budget = new MemoryBudget(1 << 20);
  const capture = new FrameCapture(start("binary"), new Uint8Array([0, 1]), { maxBodySize: 1024, budget });
  const record = capture.toRecord({ ...context, base64: (b) => `native:${b.byteLength}` });
  assert.equal(record.payload, "native:2");
  assert.equal(record.payload_base64, true);
});

test("an empty payload has no payload field and reserves nothing", () => {
  const budget = new MemoryBudget(1 << 20);
  const capture = new FrameCapture(start("ping"), new Uint8Array(0), { maxBodySize: 1024, budget });
  assert.equal(capture.heldBytes, 0);
  assert.equal(budget.used, 0);
  const record = capture.toRecord(context);
  assert.equal("payload" in record, false);
  assert.equal(record.payload_size, 0);
  assert.equal(record.payload_truncated, undefined);
  assertValidRecord(record);
});

test("opcode numbers follow RFC 6455", () => {
  assert.deepEqual({ ...OPCODES }, { text: 1, binary: 2, close: 8, ping: 9, pong: 10 });
  const budget = new MemoryBudget(1 << 20);
  for (const [name, number] of Object.entries(OPCODES) as Array<[OpcodeName, number]>) {
    const record = new FrameCapture(start(name), bytes("x"), { maxBodySize: 1024, budget }).toRecord(context);
    assert.equal(record.opcode, number, name);
    assert.equal(record.opcode_name, name);
    assertValidRecord(record);
  }
});

test("a payload over maxBodySize keeps a copied prefix and the full size", () => {
  const budget = new MemoryBudget(1 << 20);
  const payload = bytes("0123456789");
  const capture = new FrameCapture(start("text"), payload, { maxBodySize: 4, budget });
  assert.equal(capture.truncated, true);
  assert.equal(capture.size, 10);
  assert.equal(capture.heldBytes, 4);
  assert.equal(budget.used, 4);
  assert.equal(capture.budgetExhausted(4), false, "maxBodySize, not the budget, cut it");
  // The relayed message is not held: the prefix is a copy, so later writes to the message do not show.
  payload.fill(0x7a);
  const record = capture.toRecord(context);
  assert.equal(record.payload, "0123");
  assert.equal(record.payload_size, 10);
  assert.equal(record.payload_truncated, true);
  assertValidRecord(record);
});

test("a payload within maxBodySize is kept whole and not flagged", () => {
  const budget = new MemoryBudget(1 << 20);
  const capture = new FrameCapture(start("text"), bytes("1234"), { maxBodySize: 4, budget });
  assert.equal(capture.truncated, false);
  assert.equal(capture.toRecord(context).payload_truncated, undefined);
  assert.equal(capture.toRecord(context).payload, "1234");
});

test("a prefix cut inside a multi-byte character stays text", () => {
  const budget = new MemoryBudget(1 << 20);
  // "aé" is 61 C3 A9: a cut after 2 bytes splits é.
  const record = new FrameCapture(start("text"), bytes("aéb"), { maxBodySize: 2, budget }).toRecord(context);
  assert.equal(record.payload, "a");
  assert.equal(record.payload_base64, undefined);
  assert.equal(record.payload_truncated, true);
  assert.equal(record.payload_size, 4);
});

test("maxBodySize 0 keeps no payload but flags the cut", () => {
  const budget = new MemoryBudget(1 << 20);
  const record = new FrameCapture(start("text"), bytes("abc"), { maxBodySize: 0, budget }).toRecord(context);
  assert.equal("payload" in record, false);
  assert.equal(record.payload_truncated, true);
  assert.equal(record.payload_size, 3);
  assertValidRecord(record);
});

test("the memory budget cuts the payload, counts as budget exhaustion, and is given back on release", () => {
  const budget = new MemoryBudget(6);
  const first = new FrameCapture(start("text"), bytes("abcd"), { maxBodySize: 1024, budget });
  assert.equal(budget.used, 4);
  assert.equal(first.budgetExhausted(1024), false);
  const second = new FrameCapture(start("text"), bytes("efgh"), { maxBodySize: 1024, budget });
  assert.equal(budget.used, 6);
  assert.equal(second.heldBytes, 2);
  assert.equal(second.truncated, true);
  assert.equal(second.budgetExhausted(1024), true);
  const third = new FrameCapture(start("text"), bytes("ijkl"), { maxBodySize: 1024, budget });
  assert.equal(third.heldBytes, 0);
  assert.equal(third.budgetExhausted(1024), true);
  const record = second.toRecord(context);
  assert.equal(record.payload, "ef");
  assert.equal(record.payload_size, 4);
  assert.equal(record.payload_truncated, true);
  assert.equal("payload" in third.toRecord(context), false);

  first.release();
  assert.equal(budget.used, 2);
  assert.equal(first.heldBytes, 0);
  first.release();
  assert.equal(budget.used, 2, "a second release gives nothing back twice");
  second.release();
  third.release();
  assert.equal(budget.used, 0);
});

test("close frames carry code and reason; an empty reason is omitted", () => {
  const budget = new MemoryBudget(1 << 20);
  const closing = new FrameCapture(
    start("close", { direction: "server_to_client", closeCode: 4000, closeReason: "bye now" }),
    new Uint8Array(0),
    { maxBodySize: 1024, budget },
  ).toRecord(context);
  assert.equal(closing.opcode, 8);
  assert.equal(closing.opcode_name, "close");
  assert.equal(closing.close_code, 4000);
  assert.equal(closing.close_reason, "bye now");
  assertValidRecord(closing);

  const bare = new FrameCapture(start("close", { closeCode: 1000, closeReason: "" }), new Uint8Array(0), {
    maxBodySize: 1024,
    budget,
  })
    .toRecord(context);
  assert.equal(bare.close_code, 1000);
  assert.equal("close_reason" in bare, false);
  assertValidRecord(bare);

  const noCode = new FrameCapture(start("close"), new Uint8Array(0), { maxBodySize: 1024, budget }).toRecord(context);
  assert.equal("close_code" in noCode, false);
  assert.equal("close_reason" in noCode, false);
  assertValidRecord(noCode);
});
