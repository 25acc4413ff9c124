import assert from "node:assert/strict";
import { test } from "node:test";
import { GrpcRewriter, type HeldGrpcMessage } from "../../../src/core/grpc-rewriter.ts";
import { concatBytes } from "../../../src/shared/bytes.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytesOf = (s: string) => new TextEncoder().encode(s);

/** One length-prefixed message. */
function frame(payload: string, compressed = false): Uint8Array {
  const body = bytesOf(payload);
  const out = new Uint8Array(5 + body.length);
  out[0] = compressed ? 1 : 0;
  new DataView(out.buffer).setUint32(1, body.length);
  out.set(body, 5);
  return out;
}

/** Feeds `stream` cut every `step` bytes; returns all bytes sent. */
function run(rewriter: GrpcRewriter, stream: Uint8Array, step: number): Uint8Array {
  const out: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += step) out.push(rewriter.push(stream.subarray(at, at + step)));
  out.push(rewriter.end());
  return concatBytes(out);
}

test("every message reaches the handler whole however the stream is cut; unchanged ones keep their bytes", () => {
  const stream = concatBytes([frame("alpha"), frame(""), frame("gamma", true)]);
  for (const step of [1, 2, 3, 5, 7, stream.length]) {
    const seen: HeldGrpcMessage[] = [];
    const rewriter = new GrpcRewriter(1024, (message) => {
      seen.push(message);
      return undefined;
    });
    assert.deepEqual(run(rewriter, stream, step), stream, `cut every ${step}`);
    assert.deepEqual(seen.map((m) => [text(m.payload), m.compressed]), [["alpha", false], ["", false], [
      "gamma",
      true,
    ]]);
  }
});

test("a replaced message is framed with its new length and flag; null drops it", () => {
  const rewriter = new GrpcRewriter(1024, ({ payload, compressed }) => {
    const s = text(payload);
    if (s === "drop") return null;
    if (s === "grow") return { compressed, payload: bytesOf("grown longer") };
    if (s === "inflate") return { compressed: false, payload: bytesOf("plain") };
    return undefined;
  });
  const stream = concatBytes([frame("grow", true), frame("drop"), frame("keep"), frame("inflate", true)]);
  assert.deepEqual(
    run(rewriter, stream, 3),
    concatBytes([frame("grown longer", true), frame("keep"), frame("plain", false)]),
  );
});

test("a message over the limit streams on unseen and is counted; the next one is seen again", () => {
  let skipped = 0;
  const seen: string[] = [];
  const rewriter = new GrpcRewriter(4, ({ payload }) => {
    seen.push(text(payload));
    return { compressed: false, payload: bytesOf("X") };
  }, () => skipped++);
  const stream = concatBytes([frame("far too long"), frame("ok")]);
  const big = frame("far too long");
  // The big message's bytes go out as they come, not held until it ends.
  assert.deepEqual(rewriter.push(big.subarray(0, 8)), big.subarray(0, 8));
  const rest = concatBytes([rewriter.push(stream.subarray(8)), rewriter.end()]);
  assert.deepEqual(concatBytes([big.subarray(0, 8), rest]), concatBytes([big, frame("X")]));
  assert.equal(skipped, 1);
  assert.deepEqual(seen, ["ok"]);
});

test("a stream that ends inside a message sends what came of it, unseen", () => {
  let calls = 0;
  const rewriter = new GrpcRewriter(1024, () => {
    calls++;
    return { compressed: false, payload: bytesOf("changed") };
  });
  const cut = frame("incomplete").subarray(0, 9);
  assert.equal(rewriter.push(cut).length, 0);
  assert.deepEqual(rewriter.end(), cut);
  assert.equal(calls, 0);
});
