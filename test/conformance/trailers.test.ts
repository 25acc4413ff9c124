/**
 * HTTP/1.1 trailers: an upstream that ends a chunked body with a trailer
 * field (`x-checksum`) reaches the client with that trailer, and the record
 * carries it as `response.trailers`; a client's request trailers reach the
 * upstream and are recorded as `request.trailers` (HTTP/2 upstreams:
 * http2-upstream.test.ts). Bun's fetch gives no access to a
 * response's trailers, so on Bun (and the Bun binary) the test pins down that
 * limit: the body arrives whole, without the trailer, and the record has none.
 */
import assert from "node:assert/strict";
import { createServer, get, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { postWithTrailers } from "./harness/client.ts";
import { eventually, marker, tearDown, tempDir } from "./harness/fixture.ts";
import { query } from "./harness/sqlite.ts";
import { recordFor } from "./harness/records.ts";
import { engineOf, runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";

interface SeenRequest {
  body: string;
  trailers: Record<string, string | undefined>;
}

/**
 * Reads the request whole, then answers a chunked body in three parts and the
 * trailer `x-checksum: abc`; keeps each request's body and trailers by URL.
 */
function trailerUpstream(): Promise<{ server: Server; url: string; seen: Map<string, SeenRequest> }> {
  const seen = new Map<string, SeenRequest>();
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (body += chunk));
      req.on("end", () => {
        seen.set(req.url ?? "", { body, trailers: { ...req.trailers } });
        res.writeHead(200, { "content-type": "text/plain", "trailer": "x-checksum" });
        res.write("one ");
        res.write("two ");
        res.addTrailers({ "x-checksum": "abc" });
        res.end("three");
      });
    });
    server.listen(0, "127.0.0.1", () => {
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen });
    });
  });
}

/** Writes `text` on a fresh connection and returns every byte answered until the server closes it. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    let out = "";
    socket.setEncoding("latin1");
    socket.setTimeout(10_000, () => socket.destroy(new Error("no close within 10 s")));
    socket.on("data", (chunk: string) => (out += chunk));
    socket.on("close", () => resolve(out));
    socket.on("error", reject);
  });
}

/** GET through node:http, which exposes the trailers it read. */
function fetchWithTrailers(url: string): Promise<{ body: string; trailers: Record<string, string | undefined> }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ body, trailers: { ...res.trailers } }));
      res.on("error", reject);
    }).on("error", reject);
  });
}

for (const runtime of runtimes) {
  describe(`${runtime}: HTTP/1.1 response trailers`, { timeout: 60_000 }, () => {
    let upstream: { server: Server; url: string; seen: Map<string, SeenRequest> };
    let tap: Tapline;
    let dir: string;
    before(async () => {
      upstream = await trailerUpstream();
      dir = tempDir();
      tap = await startTapline(runtime, [
        "--flush-interval",
        "20ms",
        "--proxy",
        `name=api,listen_http=127.0.0.1:0,upstream=${upstream.url},log_jsonl=${dir}/,log_sqlite=${dir}/`,
      ]);
    });
    after(() =>
      tearDown(tap, [{ close: () => new Promise<void>((resolve) => upstream.server.close(() => resolve())) }], dir)
    );

    if (engineOf(runtime) !== "bun") {
      test("the client gets the trailer after the body, and the record carries it", async () => {
        const tag = marker("trailer");
        const { body, trailers } = await fetchWithTrailers(tap.url("api", `/t?${tag}`));
        assert.equal(body, "one two three");
        assert.deepEqual(trailers, { "x-checksum": "abc" });
        const record = await recordFor(join(dir, "api.jsonl"), tag);
        // Names in the canonical form every record uses for headers (as http-tap-proxy writes them).
        assert.deepEqual(record.response?.trailers, { "X-Checksum": ["abc"] });
        assert.equal(record.response?.body, "one two three");
        const rows = await eventually(
          () => query(join(dir, "api.db"), `SELECT resp_trailers FROM http_entries WHERE req_url LIKE '%${tag}%'`),
          (found) => found.length > 0,
          4_000,
        );
        assert.deepEqual(rows, [{ resp_trailers: '{"X-Checksum":["abc"]}' }]);
      });
      test("request trailers reach the upstream after the body, and the record, in JSONL and SQLite", async () => {
        const tag = marker("req-trailer");
        assert.equal(await postWithTrailers(tap.url("api", `/t?${tag}`), "payload", { "x-request-sum": "def" }), 200);
        assert.deepEqual(upstream.seen.get(`/t?${tag}`), { body: "payload", trailers: { "x-request-sum": "def" } });
        const record = await recordFor(join(dir, "api.jsonl"), tag);
        assert.deepEqual(record.request.trailers, { "X-Request-Sum": ["def"] });
        assert.equal(record.request.body, "payload");
        const rows = await eventually(
          () => query(join(dir, "api.db"), `SELECT req_trailers FROM http_entries WHERE req_url LIKE '%${tag}%'`),
          (found) => found.length > 0,
          4_000,
        );
        assert.deepEqual(rows, [{ req_trailers: '{"X-Request-Sum":["def"]}' }]);
      });
    } else {
      test("Bun.serve reads a request's trailer section as the next request and answers it 400 (README)", async () => {
        // oven-sh/bun#32887: Bun.serve does not parse a chunked trailer-part; the connection then closes.
        const raw = await rawExchange(
          tap.port("api"),
          "POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7\r\npayload\r\n0\r\nx-request-sum: def\r\n\r\n",
        );
        assert.match(raw, /HTTP\/1\.1 400 Bad Request\r\n/, raw);
      });

      test("Bun's fetch hides the upstream's trailers: the body arrives whole, without them (README)", async () => {
        const tag = marker("trailer");
        const { body, trailers } = await fetchWithTrailers(tap.url("api", `/t?${tag}`));
        assert.equal(body, "one two three");
        assert.deepEqual(trailers, {});
        const record = await recordFor(join(dir, "api.jsonl"), tag);
        assert.equal(record.response?.trailers, undefined);
      });
    }
  });
}
