/**
 * WebSocket relay and capture through one tapline process per runtime: route
 * `ws` to a real `ws` upstream, with --max-body-size 64KB and an admin port.
 * The client is the `ws` package; every wait is bounded.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { WebSocket } from "ws";
import type { HttpRecord, WebSocketFrameRecord } from "../../src/shared/record.ts";
import { request } from "./harness/client.ts";
import { marker, proxySpec, RFC3339_RE, sleep, tearDown, tempDir, UUID_RE } from "./harness/fixture.ts";
import {
  asCapture,
  assertAllValid,
  bodyBytes,
  connectionRecords,
  headerValues,
  readRecords,
  recordFor,
} from "./harness/records.ts";
import { runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import { sha256 } from "./harness/upstream.ts";
import {
  PREFERRED_PROTOCOL,
  REFUSAL,
  startWsUpstream,
  UPGRADE_HEADER,
  UPSTREAM_CLOSE,
  type WsMessage,
  type WsUpstream,
} from "./harness/ws-upstream.ts";

const T = { timeout: 20_000 };
/** Longest any single wait may take. */
const WAIT_MS = 5_000;
/** How long to keep counting after the first ping/pong arrived, to catch duplicates. */
const SETTLE_MS = 300;
const MAX_BODY = 64 * 1024;
const ROUTE = "ws";

/** A `ws` client connection and everything it received. */
interface Client {
  ws: WebSocket;
  /** Headers of the 101 response the client got. */
  upgradeHeaders: IncomingHttpHeaders;
  messages: WsMessage[];
  pings: Buffer[];
  pongs: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
}

/** Open a client; rejects on error or after WAIT_MS. */
function connect(url: string, protocols: string[] = [], headers: Record<string, string> = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers, handshakeTimeout: WAIT_MS });
    let upgradeHeaders: IncomingHttpHeaders = {};
    let resolveClosed!: (c: { code: number; reason: string }) => void;
    const client: Client = {
      ws,
      upgradeHeaders,
      messages: [],
      pings: [],
      pongs: [],
      closed: new Promise((r) => (resolveClosed = r)),
    };
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`WebSocket ${url} did not open within ${WAIT_MS} ms`));
    }, WAIT_MS);
    ws.on("upgrade", (res) => (upgradeHeaders = res.headers));
    ws.on("message", (data, binary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      client.messages.push({ data: bytes, binary });
    });
    ws.on("ping", (data) => client.pings.push(Buffer.from(data)));
    ws.on("pong", (data) => client.pongs.push(Buffer.from(data)));
    ws.on("close", (code, reason) => resolveClosed({ code, reason: reason.toString("utf8") }));
    ws.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on("open", () => {
      clearTimeout(timer);
      client.upgradeHeaders = upgradeHeaders;
      resolve(client);
    });
  });
}

/** The non-101 answer to an upgrade, as the client saw it. */
interface Refusal {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Attempt an upgrade that is expected to be refused; resolves with the response. */
function connectRefused(url: string): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: WAIT_MS });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`No answer to the upgrade ${url} within ${WAIT_MS} ms`));
    }, WAIT_MS);
    ws.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on("open", () => {
      clearTimeout(timer);
      ws.terminate();
      reject(new Error(`Upgrade ${url} was accepted; expected a refusal`));
    });
    ws.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", () => {});
      res.on("end", () => {
        clearTimeout(timer);
        ws.removeAllListeners("error");
        ws.on("error", () => {});
        ws.terminate();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
  });
}

/** Poll `check` every 10 ms until true; fail after `timeoutMs` naming `what`. */
async function until(check: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Resolve `promise` or fail after `timeoutMs` naming `what`. */
async function within<T>(promise: Promise<T>, what: string, timeoutMs = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The websocket_frame records of one connection, in file order, once at least `count` are there. */
function framesOf(file: string, connectionId: string, count: number): Promise<WebSocketFrameRecord[]> {
  return connectionRecords<WebSocketFrameRecord>(file, "websocket_frame", connectionId, count, WAIT_MS);
}

/** All frame records of a connection now (no waiting). */
function framesNow(file: string, connectionId: string): WebSocketFrameRecord[] {
  return readRecords(file).map(asCapture).filter((c): c is WebSocketFrameRecord =>
    c.type === "websocket_frame" && c.connection_id === connectionId
  );
}

/** The upgrade's http record (by marker), which must be a 101. */
async function upgradeRecord(file: string, m: string): Promise<HttpRecord> {
  const record = await recordFor(file, m, WAIT_MS);
  assert.equal(record.type, "http");
  assert.equal(record.response?.status, 101, `upgrade record: ${JSON.stringify(record).slice(0, 500)}`);
  return record;
}

/** Close a client normally and wait for its close event. */
async function closeClient(client: Client): Promise<void> {
  client.ws.close(1000, "bye");
  await within(client.closed, "the client's close event");
}

/** Sample values of `name` from Prometheus text, keyed by their label set (`route=ws,direction=...`). */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)`, "gm");
  for (const m of text.matchAll(re)) {
    const labels = (m[1] ?? "").split(",").filter((s) => s !== "").map((s) => s.replace(/"/g, "")).sort().join(",");
    out.set(labels, Number(m[2]));
  }
  return out;
}

for (const runtime of runtimes) {
  describe(`${runtime}: WebSocket relay and capture`, { timeout: 120_000 }, () => {
    let up: WsUpstream;
    let tap: Tapline;
    let dir: string;
    let file: string;
    const wsUrl = (path: string) => tap.url(ROUTE, path).replace(/^http:/, "ws:");

    before(async () => {
      up = await startWsUpstream();
      dir = tempDir();
      file = join(dir, `${ROUTE}.jsonl`);
      tap = await startTapline(runtime, [
        "--max-body-size",
        "64KB",
        "--listen-admin",
        "127.0.0.1:0",
        "--proxy",
        proxySpec({ name: ROUTE, upstream: up.url, log_jsonl: file }),
      ]);
    });

    after(() => tearDown(tap, [up], dir));

    test("text and binary messages echo both ways with their type, and each is one record", T, async () => {
      const m = marker("echo");
      const client = await connect(wsUrl(`/ws/echo?m=${m}`));
      const text = "hello tapline ✓";
      // Not valid UTF-8, so the record must carry it as base64.
      const binary = Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x80, 0x7f, 0xc3, 0x28]);
      client.ws.send(text);
      await until(() => client.messages.length === 1, "the text echo");
      client.ws.send(binary);
      await until(() => client.messages.length === 2, "the binary echo");
      assert.equal(client.messages[0]!.binary, false, "text comes back as text");
      assert.equal(client.messages[0]!.data.toString("utf8"), text);
      assert.equal(client.messages[1]!.binary, true, "binary comes back as binary");
      assert.deepEqual(client.messages[1]!.data, binary);

      const conn = await up.connection(m);
      assert.equal(conn.messages.length, 2, "the upstream got each message once");
      assert.equal(conn.messages[0]!.binary, false);
      assert.equal(conn.messages[0]!.data.toString("utf8"), text);
      assert.equal(conn.messages[1]!.binary, true);
      assert.deepEqual(conn.messages[1]!.data, binary);
      await closeClient(client);

      const upgrade = await upgradeRecord(file, m);
      assert.equal(upgrade.route_name, ROUTE);
      assert.equal(upgrade.request.method, "GET");
      assert.equal(upgrade.request.url, `/ws/echo?m=${m}`);
      assert.deepEqual(headerValues(upgrade.request.headers, "upgrade").map((v) => v.toLowerCase()), ["websocket"]);

      const frames = await framesOf(file, upgrade.id, 4);
      const messages = frames.filter((f) => f.opcode_name === "text" || f.opcode_name === "binary");
      assert.deepEqual(
        messages.map((f) => `${f.direction} ${f.opcode} ${f.opcode_name}`),
        [
          "client_to_server 1 text",
          "server_to_client 1 text",
          "client_to_server 2 binary",
          "server_to_client 2 binary",
        ],
      );
      const ids = new Set<string>();
      for (const f of messages) {
        assert.equal(f.type, "websocket_frame");
        assert.equal(f.v, 1);
        assert.match(f.id, UUID_RE);
        assert.notEqual(f.id, upgrade.id);
        ids.add(f.id);
        assert.equal(f.route_name, ROUTE);
        assert.equal(f.connection_id, upgrade.id, "connection_id is the id of the 101 record");
        assert.match(f.timestamp, RFC3339_RE);
        assert.ok(Date.parse(f.timestamp) >= Date.parse(upgrade.timestamp), "frames pass after the upgrade started");
        assert.notEqual(f.payload_truncated, true);
        if (f.opcode_name === "text") {
          assert.equal(f.payload, text);
          assert.notEqual(f.payload_base64, true, "text payload is plain text");
          assert.equal(f.payload_size, Buffer.byteLength(text));
        } else {
          assert.equal(f.payload_base64, true, "invalid UTF-8 binary payload is base64");
          assert.deepEqual(Buffer.from(f.payload ?? "", "base64"), binary);
          assert.equal(f.payload_size, binary.length);
        }
      }
      assert.equal(ids.size, 4, "every frame record has its own id");
      const stamps = messages.map((f) => Date.parse(f.timestamp));
      assert.deepEqual([...stamps].sort((a, b) => a - b), stamps, "timestamps follow the order frames passed");
    });

    test(
      "the client's offered subprotocols reach the upstream; its choice and 101 headers reach the client",
      T,
      async () => {
        const m = marker("proto");
        const client = await connect(wsUrl(`/ws/echo?m=${m}`), ["chat.v1", "chat.v2"]);
        assert.equal(client.ws.protocol, PREFERRED_PROTOCOL, "the client sees the upstream's choice");
        assert.equal(client.upgradeHeaders[UPGRADE_HEADER[0].toLowerCase()], UPGRADE_HEADER[1], "custom 101 header");
        const conn = await up.connection(m);
        assert.equal(conn.protocol, PREFERRED_PROTOCOL);
        const offered = String(conn.headers["sec-websocket-protocol"] ?? "").split(",").map((s) => s.trim());
        assert.deepEqual(offered, ["chat.v1", "chat.v2"], "the upstream saw both offers in order");
        await closeClient(client);

        const upgrade = await upgradeRecord(file, m);
        assert.deepEqual(headerValues(upgrade.response?.headers, "sec-websocket-protocol"), [PREFERRED_PROTOCOL]);
        assert.deepEqual(headerValues(upgrade.response?.headers, UPGRADE_HEADER[0]), [UPGRADE_HEADER[1]]);
      },
    );

    test("Authorization, Cookie and custom headers of the upgrade reach the upstream", T, async () => {
      const m = marker("auth");
      const client = await connect(wsUrl(`/ws/echo?m=${m}`), [], {
        Authorization: "Bearer tok-42",
        Cookie: "session=abc; theme=dark",
        "X-Custom": "c1",
      });
      const conn = await up.connection(m);
      assert.equal(conn.headers["authorization"], "Bearer tok-42");
      assert.equal(conn.headers["cookie"], "session=abc; theme=dark");
      assert.equal(conn.headers["x-custom"], "c1");
      await closeClient(client);
    });

    test("an upstream refusal (401 with a body) reaches the client as that response and is recorded", T, async () => {
      const m = marker("refuse");
      const res = await connectRefused(wsUrl(`/ws/refuse?m=${m}`));
      assert.equal(res.status, REFUSAL.status);
      assert.equal(res.body.toString("utf8"), REFUSAL.body);
      assert.equal(res.headers[REFUSAL.header[0]], REFUSAL.header[1]);
      assert.equal(up.refused.filter((r) => r.url.includes(m)).length, 1, "the upstream saw one upgrade attempt");
      assert.equal(up.connections.filter((c) => c.url.includes(m)).length, 0);

      const record = await recordFor(file, m, WAIT_MS);
      assert.equal(record.type, "http");
      assert.equal(record.response?.status, REFUSAL.status);
      assert.equal(bodyBytes(record.response).toString("utf8"), REFUSAL.body);
      assert.equal(
        readRecords(file).map(asCapture).filter((r) => r.type === "websocket_frame" && r.connection_id === record.id)
          .length,
        0,
      );
    });

    test("a close with 4001 and a reason from the client reaches the upstream and is recorded", T, async () => {
      const m = marker("cclose");
      const client = await connect(wsUrl(`/ws/echo?m=${m}`));
      const conn = await up.connection(m);
      client.ws.close(4001, "client done");
      assert.deepEqual(await within(conn.closed, "the upstream's close"), { code: 4001, reason: "client done" });
      assert.deepEqual(await within(client.closed, "the client's close"), { code: 4001, reason: "client done" });

      const upgrade = await upgradeRecord(file, m);
      await framesOf(file, upgrade.id, 1);
      await until(
        () => framesNow(file, upgrade.id).some((f) => f.direction === "client_to_server" && f.opcode_name === "close"),
        "a client_to_server close record",
      );
      const close = framesNow(file, upgrade.id).find((f) =>
        f.direction === "client_to_server" && f.opcode_name === "close"
      )!;
      assert.equal(close.opcode, 8);
      assert.equal(close.close_code, 4001);
      assert.equal(close.close_reason, "client done");
    });

    test("a close with 4001 and a reason from the upstream reaches the client after its last message", T, async () => {
      const m = marker("uclose");
      const client = await connect(wsUrl(`/ws/close?m=${m}`));
      const closed = await within(client.closed, "the client's close");
      assert.deepEqual(closed, { code: UPSTREAM_CLOSE.code, reason: UPSTREAM_CLOSE.reason });
      assert.deepEqual(client.messages.map((x) => x.data.toString("utf8")), [UPSTREAM_CLOSE.message]);
      const conn = await up.connection(m);
      const upstreamSide = await within(conn.closed, "the upstream's close");
      assert.equal(upstreamSide.code, UPSTREAM_CLOSE.code, "the client's answer echoes the code");

      const upgrade = await upgradeRecord(file, m);
      await until(
        () => framesNow(file, upgrade.id).some((f) => f.direction === "server_to_client" && f.opcode_name === "close"),
        "a server_to_client close record",
      );
      const frames = framesNow(file, upgrade.id);
      const close = frames.find((f) => f.direction === "server_to_client" && f.opcode_name === "close")!;
      assert.equal(close.opcode, 8);
      assert.equal(close.close_code, UPSTREAM_CLOSE.code);
      assert.equal(close.close_reason, UPSTREAM_CLOSE.reason);
      const message = frames.find((f) => f.direction === "server_to_client" && f.opcode_name === "text");
      assert.equal(message?.payload, UPSTREAM_CLOSE.message);
    });

    test("a ping from the client reaches the upstream once and the client gets exactly one pong", T, async () => {
      const m = marker("cping");
      const client = await connect(wsUrl(`/ws/echo?m=${m}`));
      const conn = await up.connection(m);
      client.ws.ping(Buffer.from("ping-1"));
      await until(() => client.pongs.length >= 1, "the pong at the client");
      await sleep(SETTLE_MS);
      assert.deepEqual(client.pongs.map((b) => b.toString()), ["ping-1"], "exactly one pong, same payload");
      assert.deepEqual(conn.pings.map((b) => b.toString()), ["ping-1"], "the upstream saw exactly one ping");
      await closeClient(client);

      const upgrade = await upgradeRecord(file, m);
      await framesOf(file, upgrade.id, 2);
      const frames = framesNow(file, upgrade.id);
      const pings = frames.filter((f) => f.opcode_name === "ping");
      const pongs = frames.filter((f) => f.opcode_name === "pong");
      assert.deepEqual(pings.map((f) => [f.direction, f.opcode, f.payload]), [["client_to_server", 9, "ping-1"]]);
      assert.deepEqual(pongs.map((f) => [f.direction, f.opcode, f.payload]), [["server_to_client", 10, "ping-1"]]);
    });

    test("a ping from the upstream reaches the client once and one pong goes back", T, async () => {
      const m = marker("uping");
      const client = await connect(wsUrl(`/ws/echo?m=${m}`));
      const conn = await up.connection(m);
      conn.socket.ping(Buffer.from("up-ping"));
      await until(() => conn.pongs.length >= 1, "the pong at the upstream");
      await sleep(SETTLE_MS);
      assert.deepEqual(client.pings.map((b) => b.toString()), ["up-ping"], "the client saw exactly one ping");
      assert.deepEqual(conn.pongs.map((b) => b.toString()), ["up-ping"], "exactly one pong, same payload");
      await closeClient(client);

      const upgrade = await upgradeRecord(file, m);
      await framesOf(file, upgrade.id, 2);
      const frames = framesNow(file, upgrade.id);
      assert.deepEqual(
        frames.filter((f) => f.opcode_name === "ping").map((f) => [f.direction, f.opcode, f.payload]),
        [["server_to_client", 9, "up-ping"]],
      );
      assert.deepEqual(
        frames.filter((f) => f.opcode_name === "pong").map((f) => [f.direction, f.opcode, f.payload]),
        [["client_to_server", 10, "up-ping"]],
      );
    });

    test("a 1 MiB binary message passes intact both ways; its record is cut at --max-body-size", T, async () => {
      const m = marker("big");
      const client = await connect(wsUrl(`/ws/echo?m=${m}`));
      const big = randomBytes(1024 * 1024);
      client.ws.send(big, { binary: true });
      await until(() => client.messages.length === 1, "the 1 MiB echo");
      const conn = await up.connection(m);
      assert.equal(conn.messages.length, 1);
      assert.equal(conn.messages[0]!.data.length, big.length);
      assert.equal(sha256(conn.messages[0]!.data), sha256(big), "the upstream got the exact bytes");
      assert.equal(client.messages[0]!.binary, true);
      assert.equal(client.messages[0]!.data.length, big.length);
      assert.equal(sha256(client.messages[0]!.data), sha256(big), "the client got the exact bytes back");
      await closeClient(client);

      const upgrade = await upgradeRecord(file, m);
      await framesOf(file, upgrade.id, 2);
      const frames = framesNow(file, upgrade.id).filter((f) => f.opcode_name === "binary");
      assert.deepEqual(frames.map((f) => f.direction), ["client_to_server", "server_to_client"]);
      for (const f of frames) {
        assert.equal(f.opcode, 2);
        assert.equal(f.payload_truncated, true, `${f.direction}: payload_truncated`);
        assert.equal(f.payload_size, big.length, `${f.direction}: payload_size is the full size`);
        assert.equal(f.payload_base64, true);
        const kept = Buffer.from(f.payload ?? "", "base64");
        assert.equal(kept.length, MAX_BODY, `${f.direction}: captured payload is cut at 64 KiB`);
        assert.deepEqual(kept, big.subarray(0, MAX_BODY), `${f.direction}: captured payload is the first bytes`);
      }
    });

    test("a client dropping its TCP connection closes the upstream side", T, async () => {
      const m = marker("drop");
      const client = await connect(wsUrl(`/ws/echo?m=${m}`));
      const conn = await up.connection(m);
      client.ws.terminate();
      const closed = await within(conn.closed, "the upstream to see a close after the client dropped");
      assert.ok([1005, 1006].includes(closed.code), `close code at the upstream: ${closed.code}`);
    });

    test("an upstream dropping its TCP connection closes the client side", T, async () => {
      const m = marker("updrop");
      const client = await connect(wsUrl(`/ws/echo?m=${m}`));
      const conn = await up.connection(m);
      conn.socket.terminate();
      const closed = await within(client.closed, "the client to see a close after the upstream dropped");
      assert.ok([1005, 1006].includes(closed.code), `close code at the client: ${closed.code}`);
    });

    test("admin metrics count WebSocket connections and frames per direction", T, async () => {
      const metrics = async () => {
        const res = await request(`http://127.0.0.1:${tap.adminPort()}/_metrics`, { timeoutMs: WAIT_MS });
        assert.equal(res.status, 200);
        return res.body.toString("utf8");
      };
      const frames = (text: string, direction: string) =>
        samples(text, "tapline_websocket_frames_total").get(`direction=${direction},route=${ROUTE}`);
      const active = (text: string) => samples(text, "tapline_websocket_connections_active").get(`route=${ROUTE}`);

      // Earlier connections wind down asynchronously (the drop tests above).
      let text = "";
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        text = await metrics();
        if (active(text) === 0 || Date.now() > deadline) break;
        await sleep(50);
      }
      assert.equal(active(text), 0, `tapline_websocket_connections_active{route="${ROUTE}"} before:\n${text}`);
      const beforeUp = frames(text, "client_to_server");
      const beforeDown = frames(text, "server_to_client");
      assert.equal(typeof beforeUp, "number", `tapline_websocket_frames_total{direction="client_to_server"}:\n${text}`);
      assert.equal(typeof beforeDown, "number");

      const m = marker("metrics");
      const client = await connect(wsUrl(`/ws/echo?m=${m}`));
      for (let i = 0; i < 3; i++) client.ws.send(`m${i}`);
      await until(() => client.messages.length === 3, "three echoes");
      text = await metrics();
      assert.equal(active(text), 1, "one open connection");
      assert.equal(frames(text, "client_to_server"), beforeUp! + 3, "three frames client_to_server");
      assert.equal(frames(text, "server_to_client"), beforeDown! + 3, "three frames server_to_client");
      assert.ok((samples(text, "tapline_websocket_connections_total").get(`route=${ROUTE}`) ?? 0) >= 1);
      await closeClient(client);
    });

    test("SIGTERM closes open WebSockets with 1001 on both sides, records the closes and exits 0", T, async () => {
      const ownFile = join(dir, "shutdown.jsonl");
      const own = await startTapline(runtime, [
        "--proxy",
        proxySpec({ name: ROUTE, upstream: up.url, log_jsonl: ownFile }),
      ]);
      try {
        const m = marker("shutdown");
        const client = await connect(own.url(ROUTE, `/ws/echo?m=${m}`).replace(/^http:/, "ws:"));
        const conn = await up.connection(m);
        client.ws.send("before shutdown");
        await until(() => client.messages.length === 1, "the echo before shutdown");
        const started = Date.now();
        const { code } = await own.stop();
        assert.equal(code, 0, own.stderrTail());
        assert.ok(Date.now() - started < 5_000, "shutdown did not wait for the --shutdown-timeout");
        assert.equal((await within(client.closed, "the client to see the shutdown close")).code, 1001);
        assert.equal((await within(conn.closed, "the upstream to see the shutdown close")).code, 1001);
        const frames = readRecords(ownFile, true).map(asCapture).filter((r): r is WebSocketFrameRecord =>
          r.type === "websocket_frame"
        );
        assert.deepEqual(
          frames.map((r) => [r.direction, r.opcode_name, r.close_code ?? null]),
          [
            ["client_to_server", "text", null],
            ["server_to_client", "text", null],
            ...frames.slice(2).map((r) => [r.direction, "close", 1001]),
          ],
        );
        assert.equal(frames.length, 4, "both sides' answers to the 1001 close are recorded");
      } finally {
        await own.stop();
      }
    });

    test("every record validates against the schema", T, async () => {
      // Let the last close frames reach the file.
      await sleep(300);
      const records = readRecords(file).map(asCapture);
      assert.ok(records.some((r) => r.type === "websocket_frame"), "the file has frame records");
      assert.ok(assertAllValid([file]) >= 20);
    });
  });
}
