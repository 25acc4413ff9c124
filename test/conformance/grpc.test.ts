/**
 * gRPC through tapline: route `grpc` (upstream_proto=h2) to an h2c gRPC
 * service written with node:http2 (harness/grpc-service.ts). Unary, server,
 * client and bidirectional streaming calls reach the client as the service
 * sends them, trailers included; each call is one `http` record with its
 * `grpc` summary (service, method, status, the percent-decoded grpc-message)
 * and each message one `grpc_message` record (direction, seq, t_delta_ms,
 * base64 payload), in JSONL and in SQLite; a message over --max-body-size
 * passes whole while its record is cut. On Bun and Deno tapline answers HTTP/1.1 only
 * and its upstream side speaks HTTP/1.1: there the test pins the warning and
 * that an h2c gRPC call fails.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { GrpcMessageRecord } from "../../src/shared/record.ts";
import { request } from "./harness/client.ts";
import { eventually, marker, proxySpec, RFC3339_RE, sleep, tearDown, tempDir, UUID_RE } from "./harness/fixture.ts";
import {
  grpcCall,
  type GrpcCallOptions,
  type GrpcService,
  openGrpcStream,
  SERVICE,
  startGrpcService,
  STREAM_GAP_MS,
} from "./harness/grpc-service.ts";
import { asCapture, assertAllValid, headerValues, type HttpRecord, readRecords } from "./harness/records.ts";
import { query } from "./harness/sqlite.ts";
import { engineOf, runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";

const ROUTE = "grpc";
/** gRPC paths are fixed, so each call carries its marker in this request header (gRPC metadata). */
const MARKER = "x-test-marker";
const WAIT_MS = 8_000;

const withMarker = (m: string): GrpcCallOptions => ({ headers: { [MARKER]: m } });
const base64 = (text: string): string => Buffer.from(text).toString("base64");
const payloadText = (r: GrpcMessageRecord): string => Buffer.from(r.payload, "base64").toString();

/** The one http record of the call marked `m`. */
async function callRecord(file: string, m: string): Promise<HttpRecord> {
  const found = await eventually(
    () => readRecords(file).filter((r) => r.type === "http" && headerValues(r.request.headers, MARKER)[0] === m),
    (records) => records.length > 0,
    WAIT_MS,
  );
  assert.equal(found.length, 1, `one http record carries ${MARKER}: ${m}`);
  return found[0]!;
}

/** The `grpc_message` records of one call in `seq` order, once there are `count`; fails when there are more. */
async function messageRecords(file: string, connectionId: string, count: number): Promise<GrpcMessageRecord[]> {
  const found = await eventually(
    () =>
      readRecords(file)
        .map(asCapture)
        .filter((r): r is GrpcMessageRecord => r.type === "grpc_message" && r.connection_id === connectionId),
    (records) => records.length >= count,
    WAIT_MS,
  );
  assert.equal(found.length, count, `grpc_message records of call ${connectionId}`);
  return found.sort((a, b) => a.seq - b.seq);
}

/** What every `grpc_message` record of `call` carries whatever its message. */
function assertMessageRecord(r: GrpcMessageRecord, call: HttpRecord): void {
  assert.equal(r.type, "grpc_message");
  assert.equal(r.v, 1);
  assert.match(r.id, UUID_RE);
  assert.notEqual(r.id, call.id);
  assert.equal(r.route_name, ROUTE);
  assert.equal(r.connection_id, call.id, "connection_id is the id of the call's http record");
  assert.match(r.timestamp, RFC3339_RE);
  assert.equal(typeof r.t_delta_ms, "number");
  assert.ok(r.t_delta_ms >= 0, `t_delta_ms ${r.t_delta_ms} >= 0`);
  assert.equal(r.compressed, false);
  assert.equal(r.payload_base64, true, "payloads are binary (protobuf), so always base64");
}

/** Direction, seq and decoded payload of each record: the order of a call at a glance. */
const summary = (records: GrpcMessageRecord[]): string[] =>
  records.map((r) => `${r.seq} ${r.direction} ${payloadText(r)}`);

/** Rows of `sql` once there are at least `count`; sqlite3's error when the query never ran. */
async function rowsOf(db: string, sql: string, count: number): Promise<Array<Record<string, unknown>>> {
  const rows = await eventually(
    () => {
      try {
        return query(db, sql);
      } catch (err) {
        // The database may not be there yet; a wrong column fails the same way, and is reported below.
        return err as Error;
      }
    },
    (found) => Array.isArray(found) && found.length >= count,
    WAIT_MS,
  );
  if (rows instanceof Error) throw rows;
  return rows;
}

for (const runtime of runtimes) {
  const engine = engineOf(runtime);
  describe(`${runtime}: gRPC`, { timeout: 120_000 }, () => {
    let service: GrpcService;
    let tap: Tapline;
    let dir: string;
    let file: string;
    const origin = (): string => `http://127.0.0.1:${tap.port(ROUTE)}`;

    before(async () => {
      service = await startGrpcService();
      dir = tempDir();
      file = join(dir, `${ROUTE}.jsonl`);
      tap = await startTapline(runtime, [
        "--flush-interval",
        "20ms",
        "--listen-admin",
        "127.0.0.1:0",
        "--proxy",
        proxySpec({
          name: ROUTE,
          upstream: service.url,
          upstream_proto: "h2",
          log_jsonl: `${dir}/`,
          log_sqlite: `${dir}/`,
        }),
      ]);
    });
    after(() => tearDown(tap, [service], dir));

    if (engine !== "node") {
      test(`${engine} answers HTTP/1.1 only and speaks HTTP/1.1 upstream: upstream_proto=h2 warns, an h2c gRPC call fails`, async () => {
        assert.ok(
          tap.logs.some((l) =>
            l.level === "warn" && new RegExp(`^upstream_proto=h2 cannot be honoured on ${engine}`).test(String(l.msg))
          ),
        );
        await assert.rejects(
          grpcCall(origin(), "Unary", ["hello"], { ...withMarker(marker("h1-only")), timeoutMs: 10_000 }),
          "an h2c gRPC call gets no HTTP/2 answer",
        );
      });
      return;
    }

    test("a unary call: the answer and grpc-status reach the client; one http record and a grpc_message each way", async () => {
      const m = marker("unary");
      const reply = await grpcCall(origin(), "Unary", ["hello"], withMarker(m));
      assert.equal(reply.status, 200);
      assert.equal(reply.headers["content-type"], "application/grpc");
      assert.deepEqual(reply.messages.map(String), ["echo:hello"]);
      assert.equal(reply.trailers["grpc-status"], "0");

      const call = await callRecord(file, m);
      assert.equal(call.http_version, "2");
      assert.equal(call.request.method, "POST");
      assert.equal(call.request.url, `/${SERVICE}/Unary`);
      assert.equal(call.response?.status, 200);
      assert.deepEqual(headerValues(call.response?.trailers, "grpc-status"), ["0"]);
      assert.deepEqual(call.grpc, { service: SERVICE, method: "Unary", status: 0 }, "no message key on success");

      const messages = await messageRecords(file, call.id, 2);
      for (const r of messages) assertMessageRecord(r, call);
      assert.deepEqual(
        messages.map((r) => ({
          direction: r.direction,
          seq: r.seq,
          compressed: r.compressed,
          payload_size: r.payload_size,
          payload_base64: r.payload_base64,
          payload: r.payload,
          payload_truncated: r.payload_truncated,
        })),
        [
          {
            direction: "client_to_server",
            seq: 0,
            compressed: false,
            payload_size: 5,
            payload_base64: true,
            payload: base64("hello"),
            payload_truncated: undefined,
          },
          {
            direction: "server_to_client",
            seq: 1,
            compressed: false,
            payload_size: 10,
            payload_base64: true,
            payload: base64("echo:hello"),
            payload_truncated: undefined,
          },
        ],
      );
    });

    test("server streaming: each message reaches the client as the service sends it, and is a record with its time", async () => {
      const m = marker("server-stream");
      const reply = await grpcCall(origin(), "ServerStream", ["4"], withMarker(m));
      assert.deepEqual(reply.messages.map(String), ["msg-0", "msg-1", "msg-2", "msg-3"]);
      assert.equal(reply.trailers["grpc-status"], "0");
      // The service spaces the 4 messages STREAM_GAP_MS apart: buffering would hand them over together at the end.
      assert.ok(reply.firstMessageAt !== undefined, "a first message arrived");
      const lead = reply.endedAt - reply.firstMessageAt;
      assert.ok(lead >= 2 * STREAM_GAP_MS, `the first message arrived ${lead.toFixed(0)} ms before the end (>= 300)`);

      const call = await callRecord(file, m);
      assert.deepEqual(call.grpc, { service: SERVICE, method: "ServerStream", status: 0 });
      const messages = await messageRecords(file, call.id, 5);
      for (const r of messages) assertMessageRecord(r, call);
      assert.deepEqual(summary(messages), [
        "0 client_to_server 4",
        "1 server_to_client msg-0",
        "2 server_to_client msg-1",
        "3 server_to_client msg-2",
        "4 server_to_client msg-3",
      ]);
      const answers = messages.filter((r) => r.direction === "server_to_client");
      const spread = answers.at(-1)!.t_delta_ms - answers[0]!.t_delta_ms;
      assert.ok(spread >= 2 * STREAM_GAP_MS, `t_delta_ms of the first and last answer ${spread} ms apart (>= 300)`);
    });

    test("client streaming: three messages sent apart, one answer; three client_to_server records then one back", async () => {
      const m = marker("client-stream");
      async function* requests(): AsyncIterable<string> {
        yield "a";
        await sleep(50);
        yield "b";
        await sleep(50);
        yield "c";
      }
      const reply = await grpcCall(origin(), "ClientStream", requests(), withMarker(m));
      assert.deepEqual(reply.messages.map(String), ["a,b,c"]);
      assert.equal(reply.trailers["grpc-status"], "0");

      const call = await callRecord(file, m);
      assert.deepEqual(call.grpc, { service: SERVICE, method: "ClientStream", status: 0 });
      const messages = await messageRecords(file, call.id, 4);
      for (const r of messages) assertMessageRecord(r, call);
      assert.deepEqual(summary(messages), [
        "0 client_to_server a",
        "1 client_to_server b",
        "2 client_to_server c",
        "3 server_to_client a,b,c",
      ]);
      assert.deepEqual(messages.map((r) => r.payload_size), [1, 1, 1, 5]);
    });

    test("bidirectional streaming: each answer arrives before the next request is sent; records alternate", async () => {
      const m = marker("bidi");
      const call = openGrpcStream(origin(), "Bidi", withMarker(m));
      try {
        call.send("x");
        assert.equal((await call.next()).toString(), "bidi:x");
        call.send("y");
        assert.equal((await call.next()).toString(), "bidi:y");
        call.end();
        const reply = await call.result;
        assert.equal(reply.status, 200);
        assert.deepEqual(reply.messages.map(String), ["bidi:x", "bidi:y"]);
        assert.equal(reply.trailers["grpc-status"], "0");
      } finally {
        await call.close();
      }

      const record = await callRecord(file, m);
      assert.deepEqual(record.grpc, { service: SERVICE, method: "Bidi", status: 0 });
      const messages = await messageRecords(file, record.id, 4);
      for (const r of messages) assertMessageRecord(r, record);
      assert.deepEqual(summary(messages), [
        "0 client_to_server x",
        "1 server_to_client bidi:x",
        "2 client_to_server y",
        "3 server_to_client bidi:y",
      ]);
      // Each message was caused by the one before it, so their times cannot run backwards.
      for (let i = 1; i < messages.length; i++) {
        assert.ok(
          messages[i]!.t_delta_ms >= messages[i - 1]!.t_delta_ms,
          `t_delta_ms ${messages.map((r) => r.t_delta_ms).join(", ")} in seq order`,
        );
      }
    });

    test("an error status: grpc-status 5 reaches the client; the record has it and the percent-decoded message", async () => {
      const m = marker("fail");
      const reply = await grpcCall(origin(), "Fail", ["where"], withMarker(m));
      assert.equal(reply.status, 200, "gRPC errors travel in trailers, not in :status");
      assert.deepEqual(reply.messages, []);
      assert.equal(reply.trailers["grpc-status"], "5");
      assert.equal(reply.trailers["grpc-message"], "not%20found%20here", "the client gets grpc-message as sent");

      const call = await callRecord(file, m);
      assert.deepEqual(call.grpc, { service: SERVICE, method: "Fail", status: 5, message: "not found here" });
      const messages = await messageRecords(file, call.id, 1);
      assertMessageRecord(messages[0]!, call);
      assert.deepEqual(summary(messages), ["0 client_to_server where"]);
    });

    test("metrics: HTTP/2 streams in flight, and finished calls by grpc-status", async () => {
      const metrics = async () => {
        const res = await request(`http://127.0.0.1:${tap.adminPort()}/_metrics`, { timeoutMs: WAIT_MS });
        assert.equal(res.status, 200);
        return res.body.toString("utf8");
      };
      const value = (text: string, name: string, labels = "") => {
        const line = text.split("\n").find((l) => l.startsWith(`${name}{route="${ROUTE}"${labels}} `));
        return line === undefined ? 0 : Number(line.split(" ")[1]);
      };
      const before = await metrics();
      const call = openGrpcStream(origin(), "Bidi", withMarker(marker("metrics")));
      try {
        call.send("m");
        await call.next();
        const open = await metrics();
        assert.equal(value(open, "tapline_http2_streams_active"), 1, "the open call is one HTTP/2 stream");
        call.end();
        await call.result;
      } finally {
        await call.close();
      }
      await grpcCall(origin(), "Fail", ["x"], withMarker(marker("metrics-fail")));
      const after = await eventually(
        metrics,
        (text) => value(text, "tapline_http2_streams_active") === 0,
        WAIT_MS,
      );
      const ok = ',code="0"';
      const notFound = ',code="5"';
      assert.equal(
        value(after, "tapline_grpc_responses_total", ok),
        value(before, "tapline_grpc_responses_total", ok) + 1,
      );
      assert.equal(
        value(after, "tapline_grpc_responses_total", notFound),
        value(before, "tapline_grpc_responses_total", notFound) + 1,
      );
    });

    test("SQLite: http_entries has the grpc columns, grpc_messages a row per message", async () => {
      const m = marker("sqlite");
      const reply = await grpcCall(origin(), "Unary", ["hello"], withMarker(m));
      assert.equal(reply.trailers["grpc-status"], "0");
      const call = await callRecord(file, m);
      const db = join(dir, `${ROUTE}.db`);
      assert.deepEqual(
        await rowsOf(
          db,
          `SELECT grpc_service, grpc_method, grpc_status, http_version FROM http_entries WHERE id = '${call.id}'`,
          1,
        ),
        [{ grpc_service: SERVICE, grpc_method: "Unary", grpc_status: 0, http_version: "2" }],
      );
      assert.deepEqual(
        await rowsOf(
          db,
          `SELECT direction, seq, payload_size, compressed FROM grpc_messages WHERE connection_id = '${call.id}' ORDER BY seq`,
          2,
        ),
        [
          { direction: "client_to_server", seq: 0, payload_size: 5, compressed: 0 },
          { direction: "server_to_client", seq: 1, payload_size: 10, compressed: 0 },
        ],
      );
    });

    test("a 300 000-byte message passes whole both ways; under --max-body-size 64KB its records are cut", async () => {
      const smallDir = tempDir();
      let small: Tapline | undefined;
      try {
        small = await startTapline(runtime, [
          "--flush-interval",
          "20ms",
          "--max-body-size",
          "64KB",
          "--proxy",
          proxySpec({ name: ROUTE, upstream: service.url, upstream_proto: "h2", log_jsonl: `${smallDir}/` }),
        ]);
        const m = marker("large");
        const payload = Buffer.alloc(300_000, "grpc ");
        const reply = await grpcCall(`http://127.0.0.1:${small.port(ROUTE)}`, "Unary", [payload], withMarker(m));
        assert.equal(reply.messages.length, 1);
        assert.equal(reply.messages[0]!.length, 300_005);
        assert.ok(reply.messages[0]!.equals(Buffer.concat([Buffer.from("echo:"), payload])), "the answer is intact");
        assert.equal(reply.trailers["grpc-status"], "0");

        const smallFile = join(smallDir, `${ROUTE}.jsonl`);
        const call = await callRecord(smallFile, m);
        const [sent, answered] = await messageRecords(smallFile, call.id, 2);
        assert.equal(sent!.direction, "client_to_server");
        assert.equal(sent!.payload_size, 300_000, "payload_size is the size on the wire");
        assert.equal(sent!.payload_truncated, true);
        assert.equal(sent!.payload_base64, true);
        const kept = Buffer.from(sent!.payload, "base64");
        assert.equal(kept.length, 65_536);
        assert.ok(kept.equals(payload.subarray(0, 65_536)), "the kept bytes are the message's first 64 KiB");
        assert.equal(answered!.direction, "server_to_client");
        assert.equal(answered!.payload_size, 300_005);
        assert.equal(answered!.payload_truncated, true);
        assert.equal(Buffer.from(answered!.payload, "base64").length, 65_536);
      } finally {
        await tearDown(small, [], smallDir);
      }
    });

    test("every record the calls wrote validates against the schema", () => {
      assert.ok(assertAllValid([file]) >= 12);
    });
  });
}
