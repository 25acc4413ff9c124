/**
 * End to end with a real gRPC implementation on both sides: an `@grpc/grpc-js`
 * server (h2c) behind tapline (`upstream_proto=h2`) and an `@grpc/grpc-js`
 * client in front of it. Messages are opaque bytes (identity serializers), so
 * no .proto is needed: a unary call, a server stream, and an error status with
 * its message, each as the client library sees it and as tapline records it.
 * On Bun and Deno tapline speaks HTTP/1.1 on both sides, so the call fails there (the
 * limit the README states).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import type { GrpcMessageRecord } from "../../src/shared/record.ts";
import { marker, proxySpec, tearDown, tempDir } from "./harness/fixture.ts";
import { grpcCallRecords } from "./harness/records.ts";
import { engineOf, runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";

const bytes = { serialize: (value: Buffer) => value, deserialize: (value: Buffer) => value };

/** A service of two methods, described without a .proto: bytes in, bytes out. */
const SERVICE: grpc.ServiceDefinition = {
  Say: {
    path: "/tap.Words/Say",
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes.serialize,
    requestDeserialize: bytes.deserialize,
    responseSerialize: bytes.serialize,
    responseDeserialize: bytes.deserialize,
  },
  Count: {
    path: "/tap.Words/Count",
    requestStream: false,
    responseStream: true,
    requestSerialize: bytes.serialize,
    requestDeserialize: bytes.deserialize,
    responseSerialize: bytes.serialize,
    responseDeserialize: bytes.deserialize,
  },
};

interface WordsClient extends grpc.Client {
  Say(
    request: Buffer,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    done: (error: grpc.ServiceError | null, reply?: Buffer) => void,
  ): grpc.ClientUnaryCall;
  Count(request: Buffer, metadata: grpc.Metadata, options: grpc.CallOptions): grpc.ClientReadableStream<Buffer>;
}

async function startServer(): Promise<{ server: grpc.Server; port: number; close(): Promise<void> }> {
  const server = new grpc.Server();
  server.addService(SERVICE, {
    Say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
      const text = call.request.toString();
      if (text === "fail") done({ code: grpc.status.NOT_FOUND, details: "no such word: fail ✗" });
      else done(null, Buffer.from(`said ${text}`));
    },
    Count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const n = Number(call.request.toString());
      let i = 0;
      const timer = setInterval(() => {
        if (i === n) {
          clearInterval(timer);
          call.end();
          return;
        }
        call.write(Buffer.from(`n${i++}`));
      }, 50);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      grpc.ServerCredentials.createInsecure(),
      (error, bound) => error ? reject(error) : resolve(bound),
    )
  );
  return {
    server,
    port,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

const Words = grpc.makeGenericClientConstructor(SERVICE, "Words") as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
) => WordsClient;

const text = (r: GrpcMessageRecord) => Buffer.from(r.payload, "base64").toString();

for (const runtime of runtimes) {
  describe(`${runtime}: a real gRPC client and server (@grpc/grpc-js)`, { timeout: 90_000 }, () => {
    let upstream: Awaited<ReturnType<typeof startServer>>;
    let tap: Tapline;
    let dir: string;
    let client: WordsClient;
    const deadline = () => ({ deadline: Date.now() + 10_000 });
    const withMarker = (m: string) => {
      const metadata = new grpc.Metadata();
      metadata.set("x-marker", m);
      return metadata;
    };

    before(async () => {
      upstream = await startServer();
      dir = tempDir();
      tap = await startTapline(runtime, [
        "--flush-interval",
        "20ms",
        "--proxy",
        proxySpec({
          name: "words",
          upstream: `http://127.0.0.1:${upstream.port}`,
          upstream_proto: "h2",
          log_jsonl: `${dir}/`,
        }),
      ]);
      client = new Words(`127.0.0.1:${tap.port("words")}`, grpc.credentials.createInsecure());
    });
    after(async () => {
      client?.close();
      await tearDown(tap, [upstream], dir);
    });

    if (engineOf(runtime) !== "node") {
      test(`on ${engineOf(runtime)} the call fails: tapline speaks HTTP/1.1 on both sides there`, async () => {
        const error = await new Promise<grpc.ServiceError | null>((resolve) =>
          client.Say(Buffer.from("hi"), new grpc.Metadata(), { deadline: Date.now() + 3_000 }, (e) => resolve(e))
        );
        assert.ok(error !== null, "the call does not succeed");
        assert.equal(error.code === grpc.status.OK, false);
      });
      return;
    }

    test("a unary call: the client library gets the answer; one http record, a grpc_message each way", async () => {
      const m = marker("say");
      const reply = await new Promise<Buffer>((resolve, reject) =>
        client.Say(
          Buffer.from("hello"),
          withMarker(m),
          deadline(),
          (error, value) => error ? reject(error) : resolve(value!),
        )
      );
      assert.equal(reply.toString(), "said hello");
      const [call, messages] = await grpcCallRecords(join(dir, "words.jsonl"), "x-marker", m, 2);
      assert.equal(call.http_version, "2");
      // grpc-js sends grpc-message "OK" with a success.
      assert.deepEqual(call.grpc, { service: "tap.Words", method: "Say", status: 0, message: "OK" });
      assert.deepEqual(messages.map((r) => [r.direction, text(r)]), [
        ["client_to_server", "hello"],
        ["server_to_client", "said hello"],
      ]);
    });

    test("a server stream: the client library reads every message; each is a record", async () => {
      const m = marker("count");
      const stream = client.Count(Buffer.from("5"), withMarker(m), deadline());
      const got: string[] = [];
      await new Promise<void>((resolve, reject) => {
        stream.on("data", (chunk: Buffer) => got.push(chunk.toString()));
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      assert.deepEqual(got, ["n0", "n1", "n2", "n3", "n4"]);
      const [call, messages] = await grpcCallRecords(join(dir, "words.jsonl"), "x-marker", m, 6);
      assert.equal(call.grpc?.status, 0);
      assert.deepEqual(messages.slice(1).map(text), got);
    });

    test("an error: the client library gets the code and details; the record has them decoded", async () => {
      const m = marker("fail");
      const error = await new Promise<grpc.ServiceError | null>((resolve) =>
        client.Say(Buffer.from("fail"), withMarker(m), deadline(), (e) => resolve(e))
      );
      assert.equal(error?.code, grpc.status.NOT_FOUND);
      assert.equal(error?.details, "no such word: fail ✗");
      const [call] = await grpcCallRecords(join(dir, "words.jsonl"), "x-marker", m, 1);
      assert.deepEqual(call.grpc, {
        service: "tap.Words",
        method: "Say",
        status: grpc.status.NOT_FOUND,
        message: "no such word: fail ✗",
      });
    });
  });
}
