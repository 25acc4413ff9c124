/**
 * Smuggling and framing vectors sent raw through tapline on each runtime:
 * every one is refused or forwarded safely. Checked, whatever the runtime's
 * parser decides: no smuggled request ever reaches the upstream (its raw
 * bytes are searched), a refused vector never reaches it at all, no
 * connection is ever opened to anything but the configured upstream (a
 * canary server listens where absolute-form URIs, Host headers, CONNECT and
 * `//host` paths point), and a normal client is served between vectors.
 * The outcome of each vector per runtime is written to
 * test/artifacts/malformed-<runtime>.json.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "../conformance/harness/client.ts";
import { proxySpec, removeDir, tempDir } from "../conformance/harness/fixture.ts";
import { repoRoot, runtimes } from "../conformance/harness/runtimes.ts";
import { startTapline, type Tapline } from "../conformance/harness/tapline.ts";

const T = { timeout: 120_000 };

/** A server that answers 200 and keeps every raw byte it was sent, and every connection. */
async function rawServer(): Promise<{ server: Server; port: number; raw: () => string; connections: () => number }> {
  let raw = "";
  let connections = 0;
  const server = createServer({ maxHeaderSize: 256 * 1024 }, (req, res) => {
    req.resume();
    req.on("end", () => res.end(`ok ${req.url}\n`));
  });
  server.on("connection", (socket: Socket) => {
    connections++;
    socket.on("data", (data: Buffer) => (raw += data.toString("latin1")));
  });
  server.on("clientError", (_error, socket: Socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, raw: () => raw, connections: () => connections };
}

/** Sends `text` on a fresh connection; the status line answered (or "closed" / "no answer" within 2 s). */
function send(port: number, text: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const line = answer.split("\r\n")[0] ?? "";
      resolve(line === "" ? "closed" : line.slice(0, 60));
    };
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(answer === "" ? "no answer" : (answer.split("\r\n")[0] ?? "").slice(0, 60));
    }, 2000);
    socket.on("data", (data) => {
      answer += data.toString("latin1");
      if (answer.includes("\r\n\r\n")) done();
    });
    socket.on("error", () => done());
    socket.on("close", () => done());
    socket.write(text);
  });
}

/** The vectors: [name, raw request]. `/v/<n>` marks the vector, `/smuggled/` a request hidden inside one. */
function vectors(canary: number): Array<[string, string | Buffer]> {
  const smuggled = (n: number) => `GET /smuggled/${n} HTTP/1.1\r\nHost: x\r\n\r\n`;
  const post = (n: number, headers: string, body: string) =>
    `POST /v/${n} HTTP/1.1\r\nHost: x\r\n${headers}\r\n${body}`;
  const list: Array<[string, string | Buffer]> = [
    ["CL+TE", post(1, "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + smuggled(1))],
    ["TE+CL", post(2, "Transfer-Encoding: chunked\r\nContent-Length: 6\r\n", "0\r\n\r\n" + smuggled(2))],
    ["two Content-Length", post(3, "Content-Length: 5\r\nContent-Length: 44\r\n", "hello" + smuggled(3))],
    ["Content-Length list", post(4, "Content-Length: 5, 44\r\n", "hello" + smuggled(4))],
    ["Content-Length +5", post(5, "Content-Length: +5\r\n", "hello")],
    ["Content-Length -1", post(6, "Content-Length: -1\r\n", "hello")],
    ["Content-Length 0x5", post(7, "Content-Length: 0x5\r\n", "hello")],
    ["Content-Length with space inside", post(8, "Content-Length: 1 0\r\n", "hello")],
    ["Transfer-Encoding xchunked", post(9, "Transfer-Encoding: xchunked\r\n", "0\r\n\r\n" + smuggled(9))],
    ["Transfer-Encoding chunked, identity", post(10, "Transfer-Encoding: chunked, identity\r\n", "0\r\n\r\n")],
    [
      "space before colon",
      post(11, "Transfer-Encoding : chunked\r\nContent-Length: 6\r\n", "0\r\n\r\n" + smuggled(11)),
    ],
    ["tab in Transfer-Encoding", post(12, "Transfer-Encoding:\tchunked\r\n", "0\r\n\r\n")],
    ["two Transfer-Encoding", post(13, "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n", "0\r\n\r\n")],
    ["obs-fold Transfer-Encoding", post(14, "Transfer-Encoding:\r\n chunked\r\nContent-Length: 6\r\n", "0\r\n\r\n")],
    ["obs-fold header", `GET /v/15 HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n`],
    ["space in header name", `GET /v/16 HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n`],
    ["NUL in header value", Buffer.from(`GET /v/17 HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n`, "latin1")],
    ["NUL in header name", Buffer.from(`GET /v/18 HTTP/1.1\r\nHost: x\r\nX\0A: b\r\n\r\n`, "latin1")],
    ["bare LF line ends", `GET /v/19 HTTP/1.1\nHost: x\n\n`],
    ["bare CR in header", `GET /v/20 HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n`],
    ["100 KB header", `GET /v/21 HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(100 * 1024)}\r\n\r\n`],
    [
      "10,000 headers",
      `GET /v/22 HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 10_000 }, (_, i) => `X-H${i}: v`).join("\r\n")}\r\n\r\n`,
    ],
    ["absolute-form URI to the canary", `GET http://127.0.0.1:${canary}/v/23 HTTP/1.1\r\nHost: x\r\n\r\n`],
    ["CONNECT to the canary", `CONNECT 127.0.0.1:${canary} HTTP/1.1\r\nHost: 127.0.0.1:${canary}\r\n\r\n`],
    ["//host path", `GET //127.0.0.1:${canary}/v/25 HTTP/1.1\r\nHost: x\r\n\r\n`],
    ["Host naming the canary", `GET /v/26 HTTP/1.1\r\nHost: 127.0.0.1:${canary}\r\n\r\n`],
    ["two Host headers", `GET /v/27 HTTP/1.1\r\nHost: x\r\nHost: 127.0.0.1:${canary}\r\n\r\n`],
    ["space in method", `G ET /v/28 HTTP/1.1\r\nHost: x\r\n\r\n`],
    ["HTTP/0.9 request", `GET /v/29\r\n\r\n`],
    ["HTTP/2.0 in an HTTP/1 request line", `GET /v/30 HTTP/2.0\r\nHost: x\r\n\r\n`],
    ["HTTP/1.2", `GET /v/31 HTTP/1.2\r\nHost: x\r\n\r\n`],
    ["100 KB URL", `GET /v/32?${"q".repeat(100 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ["bad chunk size", post(33, "Transfer-Encoding: chunked\r\n", "zz\r\nhello\r\n0\r\n\r\n")],
    ["chunk size overflow", post(34, "Transfer-Encoding: chunked\r\n", "ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n")],
    ["negative chunk size", post(35, "Transfer-Encoding: chunked\r\n", "-5\r\nhello\r\n0\r\n\r\n")],
    [
      "huge chunk extension",
      post(36, "Transfer-Encoding: chunked\r\n", `5;${"e".repeat(100 * 1024)}\r\nhello\r\n0\r\n\r\n`),
    ],
    ["tab in request line", `GET\t/v/37 HTTP/1.1\r\nHost: x\r\n\r\n`],
    ["request line without version", `GET /v/38\r\nHost: x\r\n\r\n`],
    [
      "Expect 100-continue without a body",
      `POST /v/39 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n`,
    ],
    ["Upgrade h2c", `GET /v/40 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n`],
  ];
  return list;
}

for (const runtime of runtimes) {
  describe(`${runtime}: malformed HTTP`, { timeout: 300_000 }, () => {
    let upstream: Awaited<ReturnType<typeof rawServer>>;
    let canary: Awaited<ReturnType<typeof rawServer>>;
    let tap: Tapline | undefined;
    let dir = "";

    before(async () => {
      upstream = await rawServer();
      canary = await rawServer();
      dir = tempDir("tapline-malformed-");
      tap = await startTapline(runtime, [
        "--data-dir",
        join(dir, "data"),
        "--proxy",
        proxySpec({ name: "api", upstream: `http://127.0.0.1:${upstream.port}`, log_jsonl: join(dir, "api.jsonl") }),
      ]);
    });

    after(async () => {
      try {
        if (tap) assert.equal((await tap.stop()).code, 0, tap.stderrTail());
      } finally {
        upstream?.server.closeAllConnections();
        upstream?.server.close();
        canary?.server.closeAllConnections();
        canary?.server.close();
        removeDir(dir);
      }
    });

    test("every vector is refused or forwarded safely; nothing is smuggled; normal clients are served", T, async () => {
      const port = tap!.port("api");
      const outcomes: Record<string, { answer: string; reachedUpstream: boolean }> = {};
      for (const [index, [name, text]] of vectors(canary.port).entries()) {
        const before = upstream.raw().length;
        const answer = await send(port, text);
        // Give a forwarded request time to reach the upstream before looking.
        await new Promise((resolve) => setTimeout(resolve, 50));
        const seen = upstream.raw().slice(before);
        const marker = `/v/${index + 1}`;
        const reachedUpstream = seen.includes(`${marker} `) || seen.includes(`${marker}?`);
        outcomes[name] = { answer, reachedUpstream };
        if (!reachedUpstream) {
          assert.ok(!seen.includes(marker), `${name}: refused (${answer}) but bytes of it reached the upstream`);
        }
        // A normal client is served between vectors, quickly.
        const started = performance.now();
        const normal = await request(tap!.url("api", `/normal/${index}`), { timeoutMs: 5000 });
        assert.equal(normal.status, 200, `after ${name}`);
        assert.ok(performance.now() - started < 1000, `after ${name}: served in ${performance.now() - started} ms`);
      }
      mkdirSync(join(repoRoot, "test", "artifacts"), { recursive: true });
      writeFileSync(
        join(repoRoot, "test", "artifacts", `malformed-${runtime}.json`),
        JSON.stringify(outcomes, null, 2) + "\n",
      );
      assert.ok(!upstream.raw().includes("/smuggled/"), "no smuggled request reached the upstream");
      assert.equal(canary.connections(), 0, "no connection to anything but the configured upstream");
      // Refusals that tapline owes on every runtime.
      assert.match(outcomes["CONNECT to the canary"]!.answer, / 405 /);
      assert.match(outcomes["two Host headers"]!.answer, / 400 /);
      assert.equal(outcomes["CL+TE"]!.reachedUpstream && outcomes["TE+CL"]!.reachedUpstream, false);
    });
  });
}
