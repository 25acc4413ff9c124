import assert from "node:assert/strict";
import { test } from "node:test";
import { grpcDecoder } from "../../../src/capture/grpc-decoder.ts";
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
