import assert from "node:assert/strict";
import { test } from "node:test";
import { serializeSseEvent, type SseEventHandler, SseRewriter } from "../../../src/core/sse-rewriter.ts";
import type { SseEventView } from "../../../src/core/hooks.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** Runs `input` through a rewriter in chunks cut at `cuts` (byte offsets); returns the output bytes and the events seen. */
function run(
  input: string | Uint8Array,
  handler: SseEventHandler = () => undefined,
  cuts: number[] = [],
): { out: Uint8Array; events: SseEventView[]; text: string } {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  const events: SseEventView[] = [];
  const rewriter = new SseRewriter((event) => {
    events.push(structuredClone(event));
    return handler(event);
  });
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.byteLength]) {
    parts.push(rewriter.push(bytes.subarray(at, cut)));
    at = cut;
  }
  parts.push(rewriter.end());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return { out, events, text: decoder.decode(out) };
}

const STREAMS: Record<string, string> = {
  lf: "event: a\ndata: one\nid: 1\n\ndata: two\ndata: lines\n\n",
  crlf: "event: a\r\ndata: one\r\n\r\ndata: two\r\n\r\n",
  cr: "data: one\r\rdata: two\revent: b\r\r",
  mixed: "data: x\r\n\ndata: y\r\r\n: comment\n\n",
  bom: "\ufeffdata: first\n\n",
  comments: ": keep-alive\n\n:another\ndata: after comment\n\n",
  retryOnly: "retry: 5000\n\nid: 7\n\ndata: z\n\n",
  noSpace: "data:tight\nevent:e\n\n",
  unterminated: "data: done\n\ndata: partial",
};

test("unchanged events pass byte-identical whatever the line ends", () => {
  for (const [name, stream] of Object.entries(STREAMS)) {
    const { out } = run(stream);
    assert.deepEqual(out, encoder.encode(stream), name);
  }
});

test("the handler sees parsed events", () => {
  assert.deepEqual(run(STREAMS.lf!).events, [
    { event: "a", data: "one", id: "1" },
    { event: "message", data: "two\nlines" },
  ]);
  assert.deepEqual(run(STREAMS.cr!).events, [
    { event: "message", data: "one" },
    { event: "b", data: "two" },
  ]);
  assert.deepEqual(run(STREAMS.bom!).events, [{ event: "message", data: "first" }]);
  assert.deepEqual(run(STREAMS.noSpace!).events, [{ event: "e", data: "tight" }]);
  // Blocks without data (comments, retry or id only) are not events and pass through untouched.
  assert.deepEqual(run(STREAMS.retryOnly!).events, [{ event: "message", data: "z" }]);
  assert.deepEqual(run("retry: 10\nid: 3\ndata: q\n\n").events, [{ event: "message", data: "q", id: "3", retry: 10 }]);
  assert.deepEqual(run(STREAMS.comments!).events, [{ event: "message", data: "after comment" }]);
});

test("an event split at every byte position is seen whole and passes unchanged", () => {
  for (const stream of [STREAMS.lf!, STREAMS.crlf!, STREAMS.cr!, STREAMS.mixed!, "data: h\u00e9llo \u{1F600}\n\n"]) {
    const bytes = encoder.encode(stream);
    const whole = run(bytes).events;
    for (let cut = 0; cut <= bytes.byteLength; cut++) {
      const { out, events } = run(bytes, undefined, [cut]);
      assert.deepEqual(events, whole, `${JSON.stringify(stream)} cut at ${cut}`);
      assert.deepEqual(out, bytes, `${JSON.stringify(stream)} cut at ${cut}`);
    }
    // One byte per chunk.
    const single = run(bytes, undefined, Array.from({ length: bytes.byteLength }, (_, i) => i));
    assert.deepEqual(single.events, whole);
    assert.deepEqual(single.out, bytes);
  }
});

test("a CR ending one chunk and an LF starting the next are one line end", () => {
  const { events, text } = run("data: a\r\n\r\ndata: b\r\n\r\n", (e) => ({ ...e, data: e.data.toUpperCase() }), [
    8,
    10,
  ]);
  assert.deepEqual(events.map((e) => e.data), ["a", "b"]);
  assert.equal(text, "data: A\n\ndata: B\n\n");
});

test("a CR-only stream with the CR at a chunk end does not wait for an LF", () => {
  const rewriter = new SseRewriter((e) => ({ ...e, data: "x" }));
  assert.equal(decoder.decode(rewriter.push(encoder.encode("data: a\r\r"))), "data: x\n\n");
  assert.equal(decoder.decode(rewriter.push(encoder.encode("data: b\r\r"))), "data: x\n\n");
  assert.equal(rewriter.end().byteLength, 0);
});

test("dropped events vanish and their neighbours stay", () => {
  const { text } = run(
    ": c\n\ndata: keep1\n\nevent: secret\ndata: drop\n\ndata: keep2\n\n",
    (e) => e.event === "secret" ? null : undefined,
  );
  assert.equal(text, ": c\n\ndata: keep1\n\ndata: keep2\n\n");
});

test("replaced events are serialized with event, id, retry and multi-line data", () => {
  const { text } = run(
    "data: in\r\n\r\n",
    () => ({ event: "update", data: "l1\nl2\r\nl3\rl4", id: "42", retry: 1500 }),
  );
  assert.equal(text, "event: update\nid: 42\nretry: 1500\ndata: l1\ndata: l2\ndata: l3\ndata: l4\n\n");
  assert.equal(serializeSseEvent({ event: "message", data: "" }), "data: \n\n");
  assert.equal(serializeSseEvent({ event: "a\nb", data: "d", id: "x\ny\0" }), "event: a b\nid: xy\ndata: d\n\n");
});

test("end flushes a partial block raw", () => {
  const rewriter = new SseRewriter(() => ({ event: "message", data: "changed" }));
  assert.equal(rewriter.push(encoder.encode("data: par")).byteLength, 0);
  assert.equal(rewriter.push(encoder.encode("tial\nid: 3")).byteLength, 0);
  assert.equal(decoder.decode(rewriter.end()), "data: partial\nid: 3");
  assert.equal(rewriter.end().byteLength, 0);
});

test("multi-byte UTF-8 split across chunks reaches the handler intact", () => {
  const stream = "data: \u00e9\u4e2d\u{1F600}\n\n";
  const bytes = encoder.encode(stream);
  for (let cut = 6; cut < bytes.byteLength - 2; cut++) {
    const { events, text } = run(bytes, (e) => ({ ...e, data: `[${e.data}]` }), [cut, cut + 1]);
    assert.deepEqual(events.map((e) => e.data), ["\u00e9\u4e2d\u{1F600}"], `cut at ${cut}`);
    assert.equal(text, "data: [\u00e9\u4e2d\u{1F600}]\n\n");
  }
});

test("events after a rewritten one keep their original bytes", () => {
  const { text } = run("data: a\r\n\r\ndata: b\r\n\r\n", (e) => e.data === "a" ? { ...e, data: "A" } : undefined);
  assert.equal(text, "data: A\n\ndata: b\r\n\r\n");
});

test("the LF of a CRLF split off a dropped or replaced event goes with it", () => {
  const stream = "data: a\r\n\r\ndata: b\r\n\r\n";
  // Byte 10 is the LF of the blank line ending the first event.
  assert.equal(run(stream, (e) => e.data === "a" ? null : undefined, [10]).text, "data: b\r\n\r\n");
  assert.equal(
    run(stream, (e) => e.data === "a" ? { ...e, data: "A" } : undefined, [10]).text,
    "data: A\n\ndata: b\r\n\r\n",
  );
  assert.equal(run(stream, undefined, [10]).text, stream);
});
