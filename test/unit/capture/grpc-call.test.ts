import assert from "node:assert/strict";
import { test } from "node:test";
import { grpcCall, isGrpc } from "../../../src/capture/grpc-call.ts";

test("isGrpc: application/grpc and its +proto/+json and parameter forms, nothing else", () => {
  for (const type of ["application/grpc", "application/grpc+proto", "Application/GRPC; charset=utf-8"]) {
    assert.equal(isGrpc(["content-type", type]), true, type);
  }
  for (const type of ["application/grpc-web", "application/json", "text/plain"]) {
    assert.equal(isGrpc(["Content-Type", type]), false, type);
  }
  assert.equal(isGrpc([]), false);
});

test("grpcCall: service and method from the path, status and decoded message from the trailers", () => {
  assert.deepEqual(grpcCall("/test.Echo/Fail", [], ["grpc-status", "5", "grpc-message", "not%20found%20%E2%9C%93"]), {
    service: "test.Echo",
    method: "Fail",
    status: 5,
    message: "not found ✓",
  });
  assert.deepEqual(grpcCall("/a.B/C", ["grpc-status", "0"], ["x-other", "1"]), {
    service: "a.B",
    method: "C",
    status: 0,
  });
  assert.deepEqual(grpcCall("/health", [], []), { service: "", method: "" });
  assert.equal(grpcCall("/a.B/C", [], ["grpc-status", "abc"]).status, undefined);
  assert.equal(grpcCall("/a.B/C", [], ["grpc-status", "13", "grpc-message", "bad%zz"]).message, "bad%zz");
  // One malformed escape does not keep the rest encoded.
  assert.equal(
    grpcCall("/a.B/C", [], ["grpc-status", "13", "grpc-message", "100% for ada%40example.com %C3"]).message,
    "100% for ada@example.com %C3",
  );
});
