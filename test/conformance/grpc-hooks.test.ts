/**
 * gRPC messages and plugins on a real tapline, on every runtime: the
 * `onGrpcMessage` hook rewrites messages in both directions through
 * `payload_json` (the `--grpc-descriptors` of the config) and drops one; the
 * upstream, the client and the `grpc_message` records all see the rewritten
 * messages. The bundled redaction redacts inside `payload_json` (and drops
 * the base64 bytes that held the secret) and in a failed call's
 * `grpc.message`, while the upstream gets the real text. The descriptors
 * are read again with the plugins on SIGHUP; a broken file is refused and
 * the running ones stay.
 *
 * The calls carry gRPC's length-prefixed messages over HTTP/1.1 (chunked,
 * to an HTTP/1.1 upstream written here), so the hooks are tested the same on
 * Bun and Deno, which answer HTTP/1.1 only; HTTP/2 gRPC calls go through the
 * same exchange code; on Node a server stream over HTTP/2 is rewritten as it
 * passes, each message reaching the client before the stream ends.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { GrpcMessageRecord } from "../../src/shared/record.ts";
import { eventually, marker, tearDown, tempDir } from "./harness/fixture.ts";
import { echoDescriptorSet, msg } from "./harness/grpc-descriptors.ts";
import {
  grpcCall,
  grpcFrame,
  type GrpcService,
  parseGrpcFrames,
  startGrpcService,
  STREAM_GAP_MS,
} from "./harness/grpc-service.ts";
import { writeConfig, writePlugins } from "./harness/plugin-config.ts";
import { grpcCallRecords, headerValues, type HttpRecord } from "./harness/records.ts";
import { engineOf, runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";

const ROUTE = "grpc";
const H2_ROUTE = "grpc-h2";
const MARKER = "x-test-marker";
const WAIT_MS = 10_000;

/** The text of a `test.Msg { text }` (field 1, one length byte: the test texts are short). */
function textOf(payload: Uint8Array): string {
  assert.equal(payload[0], 0x0a, "a test.Msg with its text field");
  return Buffer.from(payload.subarray(2, 2 + payload[1]!)).toString();
}

/** Upper-cases every message it can read as JSON, naming the method; drops "drop"; leaves e-mail addresses alone. */
const REWRITE_PLUGIN = `
export function onGrpcMessage(message, call) {
  const json = message.payload_json;
  if (json === undefined) return undefined;
  if (json.text === "drop") return null;
  if (json.text.includes("@")) return undefined;
  return { payload_json: { text: json.text.toUpperCase() + "/" + call.method } };
}
`;

/** On the HTTP/2 route (the harness service's messages are plain text): drops msg-1, replaces msg-2. */
const STREAM_PLUGIN = `
export function onGrpcMessage(message) {
  if (message.payload === ${JSON.stringify(Buffer.from("msg-1").toString("base64"))}) return null;
  if (message.payload === ${JSON.stringify(Buffer.from("msg-2").toString("base64"))}) {
    return { payload: ${JSON.stringify(Buffer.from("MSG-2!").toString("base64"))} };
  }
}
`;

/**
 * An HTTP/1.1 gRPC service: each message of a call is answered with
 * `echo:<text>`, then the trailer grpc-status 0; `Fail` is a Trailers-Only
 * NOT_FOUND whose grpc-message holds an e-mail address.
 */
interface EchoUpstream {
  server: Server;
  url: string;
  /** The texts each call (by marker) brought. */
  received: Map<string, string[]>;
}

function startEchoUpstream(): Promise<EchoUpstream> {
  const received = new Map<string, string[]>();
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      const texts = parseGrpcFrames(Buffer.concat(parts)).map((frame) => textOf(frame.payload));
      received.set(String(req.headers[MARKER]), texts);
      if (req.url === "/test.Echo/Fail") {
        res.writeHead(200, {
          "content-type": "application/grpc",
          "grpc-status": "5",
          "grpc-message": encodeURIComponent("no account for ada@example.com"),
        });
        res.end();
        return;
      }
      res.writeHead(200, { "content-type": "application/grpc", trailer: "grpc-status" });
      for (const text of texts) res.write(grpcFrame(msg(`echo:${text}`)));
      res.addTrailers({ "grpc-status": "0" });
      res.end();
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received });
    });
  });
}

/** A call over HTTP/1.1: the messages go out chunked, cut mid-message; returns the texts answered. */
function call(port: number, method: string, texts: string[], m: string): Promise<string[]> {
  const body = Buffer.concat(texts.map((text) => grpcFrame(msg(text))));
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: `/test.Echo/${method}`,
      headers: { "content-type": "application/grpc", te: "trailers", [MARKER]: m },
      timeout: WAIT_MS,
    }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (chunk: Buffer) => parts.push(chunk));
      res.on("end", () => resolve(parseGrpcFrames(Buffer.concat(parts)).map((frame) => textOf(frame.payload))));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`the ${method} call timed out`)));
    // Cut where no message boundary is: the hooks still see whole messages.
    for (let at = 0; at < body.length; at += 7) req.write(body.subarray(at, at + 7));
    req.end();
  });
}

for (const runtime of runtimes) {
  describe(`${runtime}: gRPC messages and plugins`, { timeout: 120_000 }, () => {
    let upstream: EchoUpstream;
    let service: GrpcService | undefined;
    let tap: Tapline;
    let dir: string;
    let descriptors: string;
    const jsonl = () => join(dir, `${ROUTE}.jsonl`);
    const reloads = (msg: string) => tap.logs.filter((l) => l.msg === msg).length;

    /** The http record and the `count` grpc_message records of the call marked `m`. */
    const recordsOf = (m: string, count: number): Promise<[HttpRecord, GrpcMessageRecord[]]> =>
      grpcCallRecords(jsonl(), MARKER, m, count);

    before(async () => {
      upstream = await startEchoUpstream();
      dir = tempDir();
      descriptors = join(dir, "echo.binpb");
      writeFileSync(descriptors, echoDescriptorSet());
      writePlugins(dir, { "rewrite.js": REWRITE_PLUGIN, "stream.js": STREAM_PLUGIN });
      const h2 = engineOf(runtime) === "node";
      if (h2) service = await startGrpcService();
      const config = writeConfig(dir, "tapline.yaml", {
        grpc: { descriptors: [descriptors] },
        plugins: [
          { id: "rewrite", use: "./rewrite.js", routes: [ROUTE] },
          {
            id: "redact",
            use: "redaction",
            routes: [ROUTE],
            config: { headers: [], patterns: ["email"], in: ["grpc", "headers"] },
          },
          ...(h2 ? [{ id: "stream", use: "./stream.js", routes: [H2_ROUTE] }] : []),
        ],
      });
      tap = await startTapline(runtime, [
        "--config",
        config,
        "--flush-interval",
        "20ms",
        "--proxy",
        `name=${ROUTE},listen_http=127.0.0.1:0,upstream=${upstream.url},log_jsonl=${dir}/`,
        ...(h2
          ? [
            "--proxy",
            `name=${H2_ROUTE},listen_http=127.0.0.1:0,upstream=${service!.url},upstream_proto=h2,log_jsonl=${dir}/`,
          ]
          : []),
      ], { cwd: dir });
    });
    after(async () => {
      await tearDown(tap, [service], dir);
      await new Promise((resolve) => upstream.server.close(resolve));
    });

    if (engineOf(runtime) === "node") {
      test("over HTTP/2, a server stream is rewritten message by message as it passes, not held to its end", async () => {
        const m = marker("h2-stream");
        const reply = await grpcCall(`http://127.0.0.1:${tap.port(H2_ROUTE)}`, "ServerStream", ["4"], {
          headers: { [MARKER]: m },
        });
        assert.deepEqual(reply.messages.map(String), ["msg-0", "MSG-2!", "msg-3"], "msg-1 dropped, msg-2 replaced");
        assert.equal(reply.trailers["grpc-status"], "0");
        const lead = reply.endedAt - reply.firstMessageAt!;
        assert.ok(lead >= 2 * STREAM_GAP_MS, `the first message arrived ${lead.toFixed(0)} ms before the end (>= 300)`);
        const [call, messages] = await grpcCallRecords(join(dir, `${H2_ROUTE}.jsonl`), MARKER, m, 4);
        assert.equal(call.http_version, "2");
        assert.deepEqual(
          messages.map((r) => `${r.direction} ${Buffer.from(r.payload, "base64")}`),
          ["client_to_server 4", "server_to_client msg-0", "server_to_client MSG-2!", "server_to_client msg-3"],
        );
      });
    }

    test("onGrpcMessage rewrites both ways through payload_json and drops a message; records show what was forwarded", async () => {
      const m = marker("rewrite");
      const answered = await call(tap.port(ROUTE), "Bidi", ["hello", "drop", "world"], m);
      assert.deepEqual(
        upstream.received.get(m),
        ["HELLO/Bidi", "WORLD/Bidi"],
        "the upstream got the rewritten messages",
      );
      assert.deepEqual(answered, ["ECHO:HELLO/BIDI/Bidi", "ECHO:WORLD/BIDI/Bidi"], "the client got rewritten answers");

      const [, messages] = await recordsOf(m, 4);
      // The upstream answers once the request has ended: both requests pass first. (The redaction of this
      // route keeps payload_json and leaves the bytes out: see the next test.)
      assert.deepEqual(
        messages.map((r) => [r.direction, r.payload_json]),
        [
          ["client_to_server", { text: "HELLO/Bidi" }],
          ["client_to_server", { text: "WORLD/Bidi" }],
          ["server_to_client", { text: "ECHO:HELLO/BIDI/Bidi" }],
          ["server_to_client", { text: "ECHO:WORLD/BIDI/Bidi" }],
        ],
      );
      assert.deepEqual(messages.map((r) => r.payload_size), [12, 12, 22, 22], "the sizes of the forwarded messages");
    });

    test("redaction: payload_json and a failed call's grpc.message are redacted in the records, not on the wire", async () => {
      const m = marker("redact");
      const answered = await call(tap.port(ROUTE), "Unary", ["mail ada@example.com"], m);
      assert.deepEqual(upstream.received.get(m), ["mail ada@example.com"], "the upstream got the real text");
      assert.deepEqual(answered, ["echo:mail ada@example.com"]);
      const [record, messages] = await recordsOf(m, 2);
      for (const part of [record.request, record.response!]) {
        assert.equal(part.body_redacted, true, "the call's binary bodies are left out");
        assert.equal(part.body, "");
      }
      for (const r of messages) {
        assert.match(JSON.stringify(r.payload_json), /\[REDACTED:email\]/);
        assert.equal(r.payload, "", "the bytes that held the address are not written");
        assert.equal(r.payload_redacted, true);
        assert.ok(r.payload_size > 0, "the size stays");
      }

      const failed = marker("fail");
      assert.deepEqual(await call(tap.port(ROUTE), "Fail", ["who"], failed), []);
      const [failedRecord] = await recordsOf(failed, 1);
      assert.deepEqual(failedRecord.grpc, {
        service: "test.Echo",
        method: "Fail",
        status: 5,
        message: "no account for [REDACTED:email]",
      });
      assert.deepEqual(headerValues(failedRecord.response?.headers, "grpc-message"), [
        "no account for [REDACTED:email]",
      ]);
    });

    test("--watch reloads when a descriptor file changes", async () => {
      const watched = join(dir, "watched.binpb");
      writeFileSync(watched, new Uint8Array(0));
      const watching = await startTapline(runtime, [
        "--config",
        writeConfig(dir, "watch.yaml", {
          grpc: { descriptors: [watched] },
          plugins: [{ id: "rewrite", use: "./rewrite.js" }],
        }),
        "--watch",
        "--proxy",
        `name=watch,listen_http=127.0.0.1:0,upstream=${upstream.url}`,
      ], { cwd: dir });
      try {
        const before = marker("watch-before");
        assert.deepEqual(await call(watching.port("watch"), "Bidi", ["hello"], before), ["echo:hello"]);
        writeFileSync(watched, echoDescriptorSet());
        await watching.waitForLog((l) => l.msg === "grpc descriptors reloaded", WAIT_MS, "the watched reload");
        const after = marker("watch-after");
        assert.deepEqual(await call(watching.port("watch"), "Bidi", ["hello"], after), ["ECHO:HELLO/BIDI/Bidi"]);
      } finally {
        await watching.stop();
      }
    });

    test("SIGHUP reads the descriptors again with the plugins; a broken file is refused and the running ones stay", async () => {
      // An empty file is an empty FileDescriptorSet: no method is known, so the hook sees no payload_json.
      writeFileSync(descriptors, new Uint8Array(0));
      tap.child.kill("SIGHUP");
      await eventually(() => reloads("grpc descriptors reloaded"), (n) => n >= 1, WAIT_MS);
      const plain = marker("no-descriptors");
      assert.deepEqual(await call(tap.port(ROUTE), "Bidi", ["hello"], plain), ["echo:hello"]);
      assert.deepEqual(upstream.received.get(plain), ["hello"]);
      const [, messages] = await recordsOf(plain, 2);
      assert.ok(messages.every((r) => r.payload_json === undefined), "no payload_json without descriptors");

      writeFileSync(descriptors, echoDescriptorSet());
      tap.child.kill("SIGHUP");
      await eventually(() => reloads("grpc descriptors reloaded"), (n) => n >= 2, WAIT_MS);
      const described = marker("described-again");
      assert.deepEqual(await call(tap.port(ROUTE), "Bidi", ["hello"], described), ["ECHO:HELLO/BIDI/Bidi"]);

      writeFileSync(descriptors, "not a descriptor set at all");
      tap.child.kill("SIGHUP");
      const rejected = await tap.waitForLog(
        (l) => /reload from files rejected/.test(String(l.msg)),
        WAIT_MS,
        "the rejected reload",
      );
      assert.ok(JSON.stringify(rejected).includes("echo.binpb"), `the log names the file: ${JSON.stringify(rejected)}`);
      const kept = marker("kept");
      assert.deepEqual(await call(tap.port(ROUTE), "Bidi", ["hello"], kept), ["ECHO:HELLO/BIDI/Bidi"]);
      assert.equal(reloads("grpc descriptors reloaded"), 2);
    });
  });
}
