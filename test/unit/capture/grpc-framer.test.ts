import assert from "node:assert/strict";
import { test } from "node:test";
import { GrpcFramer, type GrpcMessage } from "../../../src/capture/grpc-framer.ts";

/** A length-prefixed gRPC message. */
function frame(payload: string, compressed = false): Uint8Array {
  const bytes = new TextEncoder().encode(payload);
  const out = new Uint8Array(5 + bytes.length);
  out[0] = compressed ? 1 : 0;
  new DataView(out.buffer).setUint32(1, bytes.length);
  out.set(bytes, 5);
  return out;
}

function collect(keep: number): { framer: GrpcFramer; got: GrpcMessage[] } {
  const got: GrpcMessage[] = [];
  return { framer: new GrpcFramer(keep, (message) => got.push(message)), got };
}

const text = (message: GrpcMessage) => new TextDecoder().decode(message.payload);

test("messages split anywhere, the prefix included, come out whole and in order", () => {
  const stream = new Uint8Array([...frame("hello"), ...frame(""), ...frame("zipped", true), ...frame("last")]);
  for (let cut = 1; cut < 12; cut++) {
    const { framer, got } = collect(1024);
    for (let at = 0; at < stream.length; at += cut) framer.push(stream.subarray(at, at + cut));
    assert.deepEqual(got.map(text), ["hello", "", "zipped", "last"], `chunks of ${cut}`);
    assert.deepEqual(got.map((m) => m.compressed), [false, false, true, false]);
    assert.deepEqual(got.map((m) => m.size), [5, 0, 6, 4]);
  }
});

test("a message larger than keep is counted whole and held only up to keep", () => {
  const { framer, got } = collect(4);
  framer.push(frame("abcdefghij"));
  framer.push(frame("xy"));
  assert.equal(got[0]!.size, 10);
  assert.equal(text(got[0]!), "abcd");
  assert.equal(text(got[1]!), "xy");
});

test("a message not yet complete is not emitted", () => {
  const { framer, got } = collect(100);
  framer.push(frame("partial").subarray(0, 8));
  assert.equal(got.length, 0);
});

test("payload bytes are copies: reusing the chunk's buffer does not change a held message", () => {
  const { framer, got } = collect(100);
  const chunk = frame("abc");
  framer.push(chunk.subarray(0, 6));
  chunk.fill(0);
  framer.push(frame("abc").subarray(6));
  assert.equal(text(got[0]!), "abc");
});
