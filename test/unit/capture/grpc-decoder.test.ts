import assert from "node:assert/strict";
import { test } from "node:test";
import { grpcDecoder, GrpcDecoderSlot } from "../../../src/capture/grpc-decoder.ts";
import { echoDescriptorSet, msg } from "../../conformance/harness/grpc-descriptors.ts";

test("a known method's messages decode to proto3 JSON, both ways; int64 as a string", () => {
  const decoder = grpcDecoder([{ name: "echo.binpb", bytes: echoDescriptorSet() }]);
  assert.equal(decoder.methods, 5);
  assert.deepEqual(decoder.decode("/test.Echo/Unary", "client_to_server", msg("hello")), { text: "hello" });
  assert.deepEqual(decoder.decode("/test.Echo/Bidi?x=1", "server_to_client", new Uint8Array([0x10, 0x2a])), {
    n: "42",
  });
  assert.deepEqual(decoder.decode("/test.Echo/Unary", "client_to_server", new Uint8Array(0)), {});
});

test("unknown methods and bytes that do not decode give undefined, never an error", () => {
  const decoder = grpcDecoder([{ name: "echo.binpb", bytes: echoDescriptorSet() }]);
  assert.equal(decoder.decode("/test.Echo/Nope", "client_to_server", msg("x")), undefined);
  assert.equal(decoder.decode("/other.Service/Unary", "client_to_server", msg("x")), undefined);
  assert.equal(decoder.decode("/health", "client_to_server", msg("x")), undefined);
  assert.equal(decoder.decode("/test.Echo/Unary", "client_to_server", new Uint8Array([0xff, 0xff])), undefined);
});

test("a file that is not a FileDescriptorSet is refused, naming it", () => {
  assert.throws(
    () => grpcDecoder([{ name: "notes.txt", bytes: new TextEncoder().encode("not protobuf at all") }]),
    /^Error: "notes\.txt" is not a FileDescriptorSet/,
  );
});

test("a method's codec turns proto3 JSON back into the message bytes, and names a field that does not fit", () => {
  const decoder = grpcDecoder([{ name: "echo.binpb", bytes: echoDescriptorSet() }]);
  const codec = decoder.codec("/test.Echo/Unary", "server_to_client")!;
  assert.deepEqual(codec.encode({ text: "hello" }), msg("hello"));
  assert.deepEqual(codec.decode(codec.encode({ text: "x", n: "42" })), { text: "x", n: "42" });
  assert.throws(() => codec.encode({ nope: 1 }), /nope/);
  // Field 9 is unknown to the descriptors: JSON cannot carry it, the encoding keeps it from the original.
  const withUnknown = new Uint8Array([...msg("old"), 0x48, 0x07]);
  assert.deepEqual(codec.decode(withUnknown), { text: "old" });
  assert.deepEqual(codec.encode({ text: "new" }, withUnknown), new Uint8Array([...msg("new"), 0x48, 0x07]));
  assert.equal(decoder.codec("/test.Echo/Nope", "server_to_client"), undefined);
});

test("a slot swaps the decoder every holder of it uses", () => {
  const slot = new GrpcDecoderSlot(grpcDecoder([]));
  assert.equal(slot.decode("/test.Echo/Unary", "client_to_server", msg("a")), undefined);
  slot.swap(grpcDecoder([{ name: "echo.binpb", bytes: echoDescriptorSet() }]));
  assert.equal(slot.methods, 5);
  assert.deepEqual(slot.decode("/test.Echo/Unary", "client_to_server", msg("a")), { text: "a" });
});
