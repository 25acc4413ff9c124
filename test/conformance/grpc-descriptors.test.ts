/**
 * `--grpc-descriptors FILE`: with a FileDescriptorSet that describes the test
 * service, each `grpc_message` record also carries `payload_json` (proto3
 * JSON), in JSONL and in SQLite; a message that does not decode, or a method
 * the set does not know, keeps its base64 alone. A file that is not a
 * FileDescriptorSet stops start-up with exit 78 naming it (every runtime);
 * the decoding itself needs HTTP/2, so it runs on Node (README "HTTP/2 and gRPC").
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { eventually, marker, proxySpec, removeDir, tearDown, tempDir } from "./harness/fixture.ts";
import { echoDescriptorSet, msg } from "./harness/grpc-descriptors.ts";
import { grpcCall, type GrpcService, startGrpcService } from "./harness/grpc-service.ts";
import { grpcCallRecords } from "./harness/records.ts";
import { engineOf, runtimes } from "./harness/runtimes.ts";
import { query } from "./harness/sqlite.ts";
import { runTapline, startTapline, type Tapline } from "./harness/tapline.ts";

for (const runtime of runtimes) {
  describe(`${runtime}: --grpc-descriptors`, { timeout: 90_000 }, () => {
    let dir: string;
    let descriptors: string;
    before(() => {
      dir = tempDir();
      descriptors = join(dir, "echo.binpb");
      writeFileSync(descriptors, echoDescriptorSet());
    });
    after(() => removeDir(dir));

    test("a file that is not a FileDescriptorSet stops start-up with exit 78, naming it", async () => {
      const bad = join(dir, "notes.txt");
      writeFileSync(bad, "these are notes, not protobuf");
      const r = await runTapline(runtime, [
        "--grpc-descriptors",
        descriptors,
        "--grpc-descriptors",
        bad,
        "--proxy",
        proxySpec({ name: "grpc", upstream: "http://127.0.0.1:9" }),
      ]);
      assert.equal(r.code, 78, r.stderr);
      assert.ok(r.stderr.includes(`"${bad}" is not a FileDescriptorSet`), r.stderr);
      const missing = await runTapline(runtime, [
        "--grpc-descriptors",
        join(dir, "missing.binpb"),
        "--proxy",
        proxySpec({ name: "grpc", upstream: "http://127.0.0.1:9" }),
      ]);
      assert.equal(missing.code, 78, missing.stderr);
      assert.match(missing.stderr, /Failed to read the gRPC descriptors ".*missing\.binpb"/);
    });

    if (engineOf(runtime) !== "node") return;

    describe("decoding", () => {
      let service: GrpcService;
      let tap: Tapline;
      before(async () => {
        service = await startGrpcService();
        tap = await startTapline(runtime, [
          "--flush-interval",
          "20ms",
          "--grpc-descriptors",
          descriptors,
          "--proxy",
          proxySpec({
            name: "grpc",
            upstream: service.url,
            upstream_proto: "h2",
            log_jsonl: `${dir}/`,
            log_sqlite: `${dir}/`,
          }),
        ]);
      });
      after(() => tearDown(tap, [service], undefined));

      test("each message of a described method carries payload_json, in JSONL and SQLite", async () => {
        assert.ok(tap.logs.some((l) => l.msg === "grpc descriptors" && l["methods"] === 5), "the start-up log");
        const m = marker("json");
        // ClientStream answers its messages joined by ","; one message comes back as it went.
        const reply = await grpcCall(`http://127.0.0.1:${tap.port("grpc")}`, "ClientStream", [msg("hello")], {
          headers: { "x-test-marker": m },
        });
        assert.equal(reply.trailers["grpc-status"], "0");
        const [call, messages] = await grpcCallRecords(join(dir, "grpc.jsonl"), "x-test-marker", m, 2);
        assert.deepEqual(messages.map((r) => [r.direction, r.payload_json]), [
          ["client_to_server", { text: "hello" }],
          ["server_to_client", { text: "hello" }],
        ]);
        assert.equal(messages[0]!.payload, Buffer.from(msg("hello")).toString("base64"), "the base64 stays");
        const rows = await eventually(
          () =>
            query(
              join(dir, "grpc.db"),
              `SELECT seq, payload_json FROM grpc_messages WHERE connection_id = '${call.id}' ORDER BY seq`,
            ),
          (found) => found.length === 2,
          8_000,
        );
        assert.deepEqual(rows, [
          { seq: 0, payload_json: '{"text":"hello"}' },
          { seq: 1, payload_json: '{"text":"hello"}' },
        ]);
      });

      test("bytes that do not decode keep their base64 alone", async () => {
        const m = marker("undecodable");
        await grpcCall(`http://127.0.0.1:${tap.port("grpc")}`, "ClientStream", [Buffer.from([0xff, 0xff])], {
          headers: { "x-test-marker": m },
        });
        const [, messages] = await grpcCallRecords(join(dir, "grpc.jsonl"), "x-test-marker", m, 2);
        // The service answers with the text of what it got (U+FFFD twice): no more a Msg than 0xff 0xff.
        for (const record of messages) assert.equal(record.payload_json, undefined, record.direction);
        assert.equal(messages[0]!.payload, "//8=");
      });
    });
  });
}
