/**
 * WebSocketRelay between two fake ends that record what they are asked to do,
 * on a real Route (fixture.ts) writing into a MemorySink.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FrameDirection, WebSocketFrameRecord } from "../../../src/shared/record.ts";
import type { InboundRequest } from "../../../src/core/route-context.ts";
import { type RelayOptions, type WebSocketEnd, WebSocketRelay } from "../../../src/core/websocket-relay.ts";
import { assertValidRecord, bytes, makeRoute, type RouteHarness, type RouteOptions } from "./fixture.ts";

const CONNECTION = "0b6f1a52-1c1e-4a8e-9d0e-3c1d7b2f9a10";
const C2S: FrameDirection = "client_to_server";
const S2C: FrameDirection = "server_to_client";

type Call =
  | ["send", Uint8Array | string, boolean]
  | ["ping", Uint8Array]
  | ["pong", Uint8Array]
  | ["close", ...unknown[]];

/** A WebSocketEnd that keeps every call made on it. */
class FakeEnd implements WebSocketEnd {
  readonly calls: Call[] = [];
  send(data: Uint8Array | string, binary: boolean): void {
    this.calls.push(["send", data, binary]);
  }
  ping(data: Uint8Array): void {
    this.calls.push(["ping", data]);
  }
  pong(data: Uint8Array): void {
    this.calls.push(["pong", data]);
  }
  close(...args: [code?: number, reason?: string, peerDropped?: boolean]): void {
    // A close without a code is recorded as ["close"] or ["close", "dropped"], so it cannot pass for close(1000).
    if (args[0] === undefined) this.calls.push(args[2] ? ["close", "dropped"] : ["close"]);
    else this.calls.push(["close", ...args]);
  }
}

/** A relay on a fresh route; `captured: false` relays an exchange that is not captured (no connection id). */
function relayOn(options: RouteOptions = {}, relayOptions?: RelayOptions, captured = true) {
  const harness = makeRoute(options);
  const connectionId = captured ? CONNECTION : undefined;
  const client = new FakeEnd();
  const upstream = new FakeEnd();
  const relay = new WebSocketRelay(harness.route, { connectionId, client, upstream, ...relayOptions });
  return { harness, client, upstream, relay };
}

/** Flushes and returns the frame records written so far, each checked against the schema. */
async function frames(harness: RouteHarness): Promise<WebSocketFrameRecord[]> {
  const out: WebSocketFrameRecord[] = [];
  for (const record of await harness.flushAll()) {
    assertValidRecord(record);
    assert.equal(record.type, "websocket_frame");
    if (record.type === "websocket_frame") out.push(record);
  }
  return out;
}

/** Frames as [direction, opcode_name, payload] triples. */
const brief = (records: WebSocketFrameRecord[]) => records.map((f) => [f.direction, f.opcode_name, f.payload]);

test("a text message is forwarded once, unaltered, and recorded with its direction", async () => {
  const { harness, client, upstream, relay } = relayOn();
  relay.message(C2S, "hello", false);
  assert.deepEqual(upstream.calls, [["send", "hello", false]]);
  assert.deepEqual(client.calls, [], "nothing goes back to the sender");
  const binary = new Uint8Array([0, 1, 2]);
  relay.message(S2C, binary, true);
  assert.equal(client.calls.length, 1);
  assert.equal(client.calls[0]![1], binary, "the same bytes object is passed on");
  assert.equal(client.calls[0]![2], true);
  assert.equal(upstream.calls.length, 1);

  const records = await frames(harness);
  assert.deepEqual(brief(records), [[C2S, "text", "hello"], [S2C, "binary", "AAEC"]]);
  assert.equal(records[0]!.opcode, 1);
  assert.equal(records[0]!.payload_size, 5);
  assert.equal(records[1]!.opcode, 2);
  assert.equal(records[1]!.payload_base64, true);
  for (const record of records) {
    assert.equal(record.connection_id, CONNECTION);
    assert.equal(record.route_name, "api");
  }
  assert.deepEqual(harness.routeMetrics.websocketFrames, { client_to_server: 1, server_to_client: 1 });
});

test("a text message given as UTF-8 bytes is recorded as text with its byte size", async () => {
  const { harness, upstream, relay } = relayOn();
  const payload = bytes("né");
  relay.message(C2S, payload, false);
  assert.deepEqual(upstream.calls, [["send", payload, false]]);
  const [record] = await frames(harness);
  assert.equal(record!.payload, "né");
  assert.equal(record!.payload_size, 3);
});

test("payloads over maxBodySize are recorded cut while the message is forwarded whole", async () => {
  const { harness, upstream, relay } = relayOn({ maxBodySize: 4 });
  relay.message(C2S, "0123456789", false);
  assert.deepEqual(upstream.calls, [["send", "0123456789", false]]);
  const [record] = await frames(harness);
  assert.equal(record!.payload, "0123");
  assert.equal(record!.payload_size, 10);
  assert.equal(record!.payload_truncated, true);
});

test("a used-up memory budget counts a budget truncation", async () => {
  const { harness, relay } = relayOn({ budgetBytes: 2 });
  relay.message(C2S, "abcd", false);
  assert.equal(harness.routeMetrics.captureBudgetTruncations, 1);
  const [record] = await frames(harness);
  assert.equal(record!.payload, "ab");
  assert.equal(record!.payload_truncated, true);
  assert.equal(harness.budget.used, 0);
});

test("pings and pongs pass both ways once and are recorded", async () => {
  const { harness, client, upstream, relay } = relayOn();
  const ping = bytes("p1");
  relay.ping(C2S, ping);
  assert.deepEqual(upstream.calls, [["ping", ping]]);
  relay.pong(S2C, ping);
  assert.deepEqual(client.calls, [["pong", ping]], "without clientPongsItself the upstream's pong reaches the client");
  relay.ping(S2C, bytes("p2"));
  relay.pong(C2S, bytes("p2"));
  assert.deepEqual(client.calls.map((c) => c[0]), ["pong", "ping"]);
  assert.deepEqual(upstream.calls.map((c) => c[0]), ["ping", "pong"]);
  const records = await frames(harness);
  assert.deepEqual(brief(records), [
    [C2S, "ping", "p1"],
    [S2C, "pong", "p1"],
    [S2C, "ping", "p2"],
    [C2S, "pong", "p2"],
  ]);
  assert.deepEqual(records.map((r) => r.opcode), [9, 10, 9, 10]);
});

test("clientPongsItself: the upstream's answer to a forwarded ping is recorded but not forwarded", async () => {
  const { harness, client, upstream, relay } = relayOn({}, { clientPongsItself: true });
  relay.ping(C2S, bytes("abc"));
  assert.equal(upstream.calls.length, 1);
  assert.deepEqual(upstream.calls[0]![0], "ping");
  relay.pong(S2C, bytes("abc"));
  assert.deepEqual(client.calls, [], "the client's server already answered this ping");
  // A second pong with the same payload is no longer an answer: it goes through.
  relay.pong(S2C, bytes("abc"));
  assert.equal(client.calls.length, 1);
  // An unsolicited pong (no ping with that payload) is forwarded.
  relay.pong(S2C, bytes("unsolicited"));
  assert.deepEqual(client.calls.map((c) => [c[0], new TextDecoder().decode(c[1] as Uint8Array)]), [
    ["pong", "abc"],
    ["pong", "unsolicited"],
  ]);
  // Pongs from the client to the upstream are never held back.
  relay.pong(C2S, bytes("abc"));
  assert.equal(upstream.calls.at(-1)![0], "pong");
  const records = await frames(harness);
  assert.deepEqual(brief(records), [
    [C2S, "ping", "abc"],
    [S2C, "pong", "abc"],
    [S2C, "pong", "abc"],
    [S2C, "pong", "unsolicited"],
    [C2S, "pong", "abc"],
  ]);
  assert.equal(harness.routeMetrics.websocketFrames.server_to_client, 3, "the held-back pong still counts");
});

test("clientPongsItself: answers match pings by payload, in any order", () => {
  const { client, relay } = relayOn({}, { clientPongsItself: true });
  relay.ping(C2S, bytes("one"));
  relay.ping(C2S, bytes("two"));
  relay.pong(S2C, bytes("two"));
  relay.pong(S2C, bytes("one"));
  assert.deepEqual(client.calls, []);
});

test("a close with a normal code and reason is passed on and recorded", async () => {
  const { harness, client, upstream, relay } = relayOn();
  relay.close(C2S, 4000, "custom bye");
  assert.deepEqual(upstream.calls, [["close", 4000, "custom bye"]]);
  assert.deepEqual(client.calls, []);
  const [record] = await frames(harness);
  assert.equal(record!.opcode_name, "close");
  assert.equal(record!.opcode, 8);
  assert.equal(record!.direction, C2S);
  assert.equal(record!.close_code, 4000);
  assert.equal(record!.close_reason, "custom bye");
});

test("the upstream's close with 1000 and no reason reaches the client as 1000", async () => {
  const { harness, client, relay } = relayOn();
  relay.close(S2C, 1000, "");
  assert.equal(client.calls.length, 1);
  assert.equal(client.calls[0]![0], "close");
  assert.equal(client.calls[0]![1], 1000);
  const [record] = await frames(harness);
  assert.equal(record!.close_code, 1000);
  assert.equal("close_reason" in record!, false);
});

for (const code of [1005, 1006, 1015]) {
  test(`close code ${code} closes the other side without a code`, async () => {
    const { harness, client, upstream, relay } = relayOn();
    relay.close(C2S, code, "");
    assert.equal(upstream.calls.length, 1);
    assert.deepEqual(upstream.calls[0], ["close"], `${code} must not be sent in a close frame`);
    assert.deepEqual(client.calls, []);
    const [record] = await frames(harness);
    assert.equal(record!.opcode_name, "close");
    assert.equal("close_code" in record!, false);
  });
}

test("a close frame without a code closes the other side without a code", async () => {
  const { harness, client, relay } = relayOn();
  relay.close(S2C, undefined, "");
  assert.deepEqual(client.calls, [["close"]]);
  const [record] = await frames(harness);
  assert.equal("close_code" in record!, false);
});

test("the answering close of the other side is recorded but not passed back", async () => {
  const { harness, client, upstream, relay } = relayOn();
  relay.close(C2S, 1000, "done");
  relay.close(S2C, 1000, "done");
  assert.deepEqual(upstream.calls, [["close", 1000, "done"]]);
  assert.deepEqual(client.calls, [], "the client's own close is not echoed to it");
  const records = await frames(harness);
  assert.deepEqual(records.map((r) => [r.direction, r.opcode_name, r.close_code]), [
    [C2S, "close", 1000],
    [S2C, "close", 1000],
  ]);
});

test("a repeated close from the same side is ignored", async () => {
  const { harness, upstream, relay } = relayOn();
  relay.close(C2S, 1000, "");
  relay.close(C2S, 1001, "");
  assert.equal(upstream.calls.length, 1);
  assert.equal((await frames(harness)).length, 1);
});

test("a dropped side closes the other without a code and without a close record", async () => {
  const { harness, client, upstream, relay } = relayOn();
  relay.message(C2S, "last words", false);
  relay.dropped(C2S);
  assert.deepEqual(upstream.calls.at(-1), ["close", "dropped"]);
  assert.deepEqual(client.calls, []);
  // The upstream then answers the close tapline sent it: recorded, not passed to the gone client.
  relay.close(S2C, 1005, "");
  assert.deepEqual(client.calls, []);
  const records = await frames(harness);
  assert.deepEqual(brief(records), [[C2S, "text", "last words"], [S2C, "close", undefined]]);
});

test("a dropped upstream closes the client without a code", async () => {
  const { harness, client, relay } = relayOn();
  relay.dropped(S2C);
  assert.deepEqual(client.calls, [["close", "dropped"]]);
  assert.deepEqual(await frames(harness), []);
});

test("goingAway closes both sides with 1001; their answers are not passed across", async () => {
  const { harness, client, upstream, relay } = relayOn();
  assert.equal(harness.route.websockets.has(relay), true);
  harness.route.closeWebSockets();
  assert.deepEqual(client.calls, [["close", 1001, "Proxy shutting down"]]);
  assert.deepEqual(upstream.calls, [["close", 1001, "Proxy shutting down"]]);
  relay.close(S2C, 1001, "Proxy shutting down");
  relay.close(C2S, 1001, "Proxy shutting down");
  relay.goingAway();
  assert.equal(client.calls.length, 1);
  assert.equal(upstream.calls.length, 1);
  assert.equal((await frames(harness)).length, 2, "both answering close frames are recorded");
});

test("goingAway after one side closed does not close that side's peer twice", () => {
  const { client, upstream, relay } = relayOn();
  relay.close(C2S, 1000, "bye");
  assert.deepEqual(upstream.calls, [["close", 1000, "bye"]]);
  relay.goingAway();
  assert.equal(upstream.calls.length, 1, "the upstream was already asked to close");
  assert.deepEqual(client.calls, [], "the client already sent its close");
});

test("websocket metrics and activity: counted at start, released once by ended()", () => {
  const { harness, relay } = relayOn();
  const m = harness.routeMetrics;
  assert.equal(m.websocketsTotal, 1);
  assert.equal(m.websocketsActive, 1);
  assert.equal(harness.activity.active, 1);
  assert.equal(harness.route.websockets.size, 1);
  const second = new WebSocketRelay(harness.route, {
    connectionId: CONNECTION,
    client: new FakeEnd(),
    upstream: new FakeEnd(),
  });
  assert.equal(m.websocketsTotal, 2);
  assert.equal(m.websocketsActive, 2);
  assert.equal(harness.activity.active, 2);
  relay.ended();
  relay.ended();
  assert.equal(m.websocketsActive, 1);
  assert.equal(harness.activity.active, 1);
  assert.equal(harness.route.websockets.has(relay), false);
  second.ended();
  assert.equal(m.websocketsActive, 0);
  assert.equal(harness.activity.active, 0);
  assert.equal(m.websocketsTotal, 2);
});

test("ended() lets shutdown's whenIdle resolve", async () => {
  const { harness, relay } = relayOn();
  let idle = false;
  const waiting = harness.activity.whenIdle().then(() => (idle = true));
  await Promise.resolve();
  assert.equal(idle, false);
  relay.ended();
  await waiting;
  assert.equal(idle, true);
});

test("without a connectionId nothing is recorded but frames are relayed and counted", async () => {
  const { harness, client, upstream, relay } = relayOn({}, undefined, false);
  assert.equal(relay.connectionId, undefined);
  relay.message(C2S, "a", false);
  relay.message(S2C, "b", false);
  relay.ping(C2S, bytes("p"));
  relay.pong(S2C, bytes("p"));
  relay.close(C2S, 1000, "");
  assert.equal(upstream.calls.length, 3);
  assert.equal(client.calls.length, 2);
  assert.deepEqual(harness.routeMetrics.websocketFrames, { client_to_server: 3, server_to_client: 2 });
  assert.equal(harness.routeMetrics.websocketsTotal, 1);
  assert.equal(harness.pipeline.depth, 0);
  assert.deepEqual(await harness.flushAll(), []);
  relay.ended();
  assert.equal(harness.routeMetrics.websocketsActive, 0);
});

test("frames are submitted as they pass, in order", async () => {
  const { harness, relay } = relayOn();
  relay.message(C2S, "1", false);
  assert.equal(harness.pipeline.depth, 1);
  relay.message(S2C, "2", false);
  relay.message(C2S, "3", false);
  const records = await frames(harness);
  assert.deepEqual(records.map((r) => r.payload), ["1", "2", "3"]);
  assert.equal(new Set(records.map((r) => r.id)).size, 3);
});

test("Exchange.acceptWebSocket records the 101 exchange whose id is the frames' connection_id", async () => {
  const harness = makeRoute();
  const request: InboundRequest = {
    method: "GET",
    target: "/ws",
    headers: ["Host", "proxy.test", "Upgrade", "websocket", "Connection", "Upgrade"],
    clientIp: "127.0.0.1",
    clientPort: 40000,
    secure: false,
  };
  const exchange = harness.route.begin(request);
  exchange.requestEnd();
  const client = new FakeEnd();
  const upstream = new FakeEnd();
  const relay = exchange.acceptWebSocket(
    { statusText: "Switching Protocols", headers: ["Upgrade", "websocket", "Sec-WebSocket-Protocol", "chat"] },
    { client, upstream },
  );
  assert.equal(relay.connectionId, exchange.capture!.id);
  assert.equal(harness.routeMetrics.requestsActive, 0, "the exchange is finished once the relay takes over");
  assert.equal(harness.activity.active, 1, "the relay keeps the process busy");
  relay.message(C2S, "hi", false);
  const all = await harness.flushAll();
  for (const record of all) assertValidRecord(record);
  const http = all.find((r) => r.type === "http");
  const frame = all.find((r) => r.type === "websocket_frame");
  assert.ok(http?.type === "http" && frame?.type === "websocket_frame");
  assert.equal(http.response?.status, 101);
  assert.equal(http.sse_events, undefined);
  assert.equal(frame.connection_id, http.id);
  relay.ended();
  assert.equal(harness.activity.active, 0);
});
