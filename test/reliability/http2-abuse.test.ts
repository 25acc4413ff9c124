/**
 * HTTP/2 abuse against tapline's listener (RFC 9113 and the known attacks),
 * sent raw so nothing is cleaned up on the way:
 * - malformed requests (§8.1.1, §8.2): uppercase names, connection-specific
 *   fields, CR/LF/NUL in values, bad pseudo-headers, content-length that
 *   disagrees with DATA: refused (RST_STREAM), and never reaching the upstream
 *   whole. A value with CR, LF or NUL is the exception on Node: nghttp2's
 *   invalid-field callback drops that one field and the request goes on, so
 *   the test holds to what matters, that the field never reaches the upstream;
 * - rapid reset (CVE-2023-44487): thousands of streams opened and cancelled
 *   in a burst;
 * - a CONTINUATION flood (CVE-2024-27983 and kin), an HPACK bomb, SETTINGS
 *   and PING floods: the connection is cut off.
 * After each, HTTP/1.1 and HTTP/2 clients are still served and tapline's peak
 * memory stays bounded. Node only: Bun and Deno answer HTTP/1.1 only
 * (conformance/http2.test.ts pins that).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import http2 from "node:http2";
import { after, before, describe, test } from "node:test";
import { request } from "../conformance/harness/client.ts";
import { closeSession, h2Request, openSession } from "../conformance/harness/http2-client.ts";
import { proxySpec } from "../conformance/harness/fixture.ts";
import { engineOf, runtimes } from "../conformance/harness/runtimes.ts";
import { startTapline, type Tapline } from "../conformance/harness/tapline.ts";
import { block, FLAG, FRAME, frame, indexed, indexedLiteral, literal, rawSession, statusOf } from "./h2-raw.ts";
import { peakRssMb } from "./load.ts";
import { scale } from "./scale.ts";

const T = { timeout: 120_000 };
/** Most tapline's peak memory may grow over one attack. */
const MAX_GROWTH_MB = 150;

/** An upstream that keeps every raw byte it was sent, and the paths of the requests it read whole. */
async function recordingUpstream(): Promise<{ server: Server; port: number; raw: () => string; whole: string[] }> {
  let raw = "";
  const whole: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      whole.push(req.url ?? "");
      res.end(`ok ${req.url}\n`);
    });
  });
  server.on("connection", (socket: Socket) => socket.on("data", (data: Buffer) => (raw += data.toString("latin1"))));
  server.on("clientError", (_error, socket: Socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, raw: () => raw, whole };
}

const request1 = (path: string, extra: Array<[string, string]> = []): Array<[string, string]> => [
  [":method", "GET"],
  [":scheme", "http"],
  [":authority", "tap.test"],
  [":path", path],
  ...extra,
];

/** The malformed requests: [name, header fields, DATA to send after them (or none)]. */
function vectors(): Array<[string, Array<[string, string]>, Buffer?]> {
  const post = (path: string, length: string): Array<[string, string]> => [
    [":method", "POST"],
    [":scheme", "http"],
    [":authority", "tap.test"],
    [":path", path],
    ["content-length", length],
  ];
  return [
    ["uppercase name", request1("/v/1", [["X-Upper", "1"]])],
    ["connection", request1("/v/2", [["connection", "keep-alive"]])],
    ["transfer-encoding", request1("/v/3", [["transfer-encoding", "chunked"]])],
    ["upgrade", request1("/v/4", [["upgrade", "websocket"]])],
    ["keep-alive", request1("/v/5", [["keep-alive", "timeout=5"]])],
    ["proxy-connection", request1("/v/6", [["proxy-connection", "keep-alive"]])],
    ["te other than trailers", request1("/v/7", [["te", "gzip"]])],
    ["CR LF in a value", request1("/v/8", [["x-bad-crlf", "a\r\nx-smuggled: 1"]])],
    ["NUL in a value", request1("/v/9", [["x-bad-nul", "a\0b"]])],
    ["LF in a value", request1("/v/10", [["x-bad-lf", "a\nb"]])],
    ["no :path", request1("/v/11").filter(([name]) => name !== ":path").concat([["x-v", "/v/11"]])],
    ["unknown pseudo-header", request1("/v/12", [[":foo", "bar"]])],
    ["pseudo-header after a field", [[":method", "GET"], [":scheme", "http"], ["x-a", "1"], [":path", "/v/13"]]],
    ["two :path", request1("/v/14", [[":path", "/v/14b"]])],
    ["content-length above DATA", post("/v/15", "10"), Buffer.from("hello")],
    ["content-length below DATA", post("/v/16", "3"), Buffer.from("hello")],
  ];
}

for (const runtime of runtimes.filter((r) => engineOf(r) === "node")) {
  describe(`${runtime}: HTTP/2 abuse`, T, () => {
    let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
    let tap: Tapline;
    let port: number;

    before(async () => {
      upstream = await recordingUpstream();
      tap = await startTapline(runtime, [
        "--proxy",
        proxySpec({ name: "api", upstream: `http://127.0.0.1:${upstream.port}` }),
      ]);
      port = tap.port("api");
    });
    after(async () => {
      if (tap) assert.equal((await tap.stop()).code, 0, tap.stderrTail());
      await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
    });

    /** An HTTP/1.1 and an HTTP/2 request both answered 200. */
    async function stillServes(label: string): Promise<void> {
      const h1 = await request(`http://127.0.0.1:${port}/ok/h1`, { timeoutMs: 10_000 });
      assert.equal(h1.status, 200, `${label}: HTTP/1.1 served`);
      const session = await openSession(`http://127.0.0.1:${port}`);
      try {
        assert.equal((await h2Request(session, "/ok/h2", { timeoutMs: 10_000 })).status, 200, `${label}: h2 served`);
      } finally {
        await closeSession(session);
      }
    }

    async function boundedMemory(label: string, attack: () => Promise<void>): Promise<void> {
      const pid = tap.child.pid!;
      const before = await peakRssMb(pid);
      await attack();
      const after = await peakRssMb(pid);
      if (before !== undefined && after !== undefined) {
        // The figures in test/reliability/README.md come from these lines.
        console.log(`${label}: peak RSS ${before} → ${after} MB`);
        assert.ok(after - before <= MAX_GROWTH_MB, `${label}: peak RSS ${before} → ${after} MB`);
      }
      await stillServes(label);
    }

    test("malformed requests are refused and never reach the upstream whole", async () => {
      for (const [name, fields, data] of vectors()) {
        const path = fields.find(([field]) => field === ":path" || field === "x-v")?.[1] ?? "";
        const session = await rawSession(port);
        const end = data === undefined ? FLAG.END_STREAM : 0;
        session.send(frame(FRAME.HEADERS, FLAG.END_HEADERS | end, 1, block(fields)));
        if (data !== undefined) session.send(frame(FRAME.DATA, FLAG.END_STREAM, 1, data));
        const answer = await session.waitFor(
          (f) =>
            (f.stream === 1 && (f.type === FRAME.RST_STREAM || f.type === FRAME.HEADERS)) || f.type === FRAME.GOAWAY,
          3_000,
        );
        session.socket.destroy();
        const outcome = answer === undefined
          ? "no answer"
          : answer.type === FRAME.HEADERS
          ? statusOf(answer)
          : answer.type === FRAME.RST_STREAM
          ? "RST_STREAM"
          : "GOAWAY";
        assert.notEqual(outcome, "no answer", `${name}: neither refused nor answered`);
        const badField = fields.find(([field]) => field.startsWith("x-bad-"));
        if (badField !== undefined) {
          // Refused, or served without the field: never forwarded with it.
          assert.ok(!upstream.raw().includes(badField[0]), `${name}: the field reached the upstream`);
          assert.ok(!upstream.raw().includes("x-smuggled"), `${name}: a smuggled field reached the upstream`);
          continue;
        }
        assert.equal(outcome, "RST_STREAM", `${name}: refused`);
        assert.ok(!upstream.whole.some((url) => url.startsWith(path)), `${name}: reached the upstream whole`);
        if (data === undefined) assert.ok(!upstream.raw().includes(path), `${name}: its head reached the upstream`);
      }
      await stillServes("after the malformed requests");
    });

    test("rapid reset: a burst of streams opened and cancelled at once", async () => {
      const streams = scale(3_000, 20_000);
      await boundedMemory("rapid reset", async () => {
        const session = http2.connect(`http://127.0.0.1:${port}`);
        session.on("error", () => {});
        let goaway = false;
        session.on("goaway", () => (goaway = true));
        await new Promise<void>((resolve) => session.once("connect", () => resolve()));
        const served = stillServes("during the burst");
        for (let i = 0; i < streams && !session.closed && !session.destroyed && !goaway; i++) {
          const stream = session.request({ ":path": `/rr/${i}` });
          stream.on("error", () => {});
          stream.close(http2.constants.NGHTTP2_CANCEL);
        }
        await served;
        session.destroy();
      });
    });

    test("a CONTINUATION flood is cut off", async () => {
      const frames = scale(3_000, 20_000);
      await boundedMemory("CONTINUATION flood", async () => {
        const session = await rawSession(port);
        session.send(frame(FRAME.HEADERS, 0, 1, block(request1("/flood/continuation"))));
        const filler = Buffer.from(literal("x-filler", "f".repeat(1000)));
        for (let i = 0; i < frames && !session.socket.destroyed; i++) {
          session.send(frame(FRAME.CONTINUATION, 0, 1, filler));
          if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
        const cut = await Promise.race([
          session.closed.then(() => "closed"),
          session.waitFor((f) => f.type === FRAME.GOAWAY, 10_000).then((f) => (f ? "GOAWAY" : "not cut")),
        ]);
        session.socket.destroy();
        assert.notEqual(cut, "not cut", "the flood is cut off by GOAWAY or a close");
        assert.ok(!upstream.raw().includes("/flood/continuation"));
      });
    });

    test("an HPACK bomb (one large indexed entry referenced many times) is refused", async () => {
      await boundedMemory("HPACK bomb", async () => {
        const session = await rawSession(port);
        const bomb = Buffer.from([
          ...block(request1("/flood/hpack")),
          ...indexedLiteral("x-bomb", Buffer.alloc(4000, "b")),
          ...Array.from({ length: 2000 }, () => indexed(62)).flat(),
        ]);
        session.send(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, bomb));
        const answer = await session.waitFor(
          (f) =>
            (f.stream === 1 && (f.type === FRAME.RST_STREAM || f.type === FRAME.HEADERS)) || f.type === FRAME.GOAWAY,
          5_000,
        );
        session.socket.destroy();
        assert.ok(answer === undefined || answer.type !== FRAME.HEADERS || statusOf(answer) !== "200");
        assert.ok(!upstream.raw().includes("/flood/hpack"), "the 8 MB header list never reached the upstream");
      });
    });

    for (
      const [name, flood] of [["SETTINGS", frame(FRAME.SETTINGS, 0, 0)], [
        "PING",
        frame(FRAME.PING, 0, 0, Buffer.alloc(8)),
      ]] as const
    ) {
      test(`a ${name} flood (acknowledgements never read) is cut off`, async () => {
        const count = scale(50_000, 200_000);
        await boundedMemory(`${name} flood`, async () => {
          const session = await rawSession(port);
          session.socket.pause();
          const burst = Buffer.concat(Array.from({ length: 1000 }, () => flood));
          for (let i = 0; i < count / 1000 && !session.socket.destroyed; i++) {
            session.send(burst);
            await new Promise((resolve) => setImmediate(resolve));
          }
          session.socket.resume();
          const cut = await Promise.race([
            session.closed.then(() => "closed"),
            session.waitFor((f) => f.type === FRAME.GOAWAY, 10_000).then((f) => (f ? "GOAWAY" : "not cut")),
          ]);
          session.socket.destroy();
          assert.notEqual(cut, "not cut", `the ${name} flood is cut off by GOAWAY or a close`);
        });
      });
    }
  });
}
