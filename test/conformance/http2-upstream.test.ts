/**
 * HTTP/2 to the upstream (`upstream_proto`): h1 and h2 clients through one
 * multiplexed h2c session, trailers and `te: trailers` both ways, every byte
 * of a large body before its trailers to a slow client, a new session after
 * GOAWAY, a reset stream as a 502; `auto` choosing by ALPN on https
 * upstreams. On Bun (fetch, node:http) and Deno tapline speaks HTTP/1.1 to upstreams: there
 * the test pins the warning and what an h2c-only upstream then answers.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { curl } from "./harness/curl.ts";
import { createSelfSignedCertificate } from "../../src/tls/self-signed.ts";
import { postWithTrailers, request } from "./harness/client.ts";
import { marker, proxySpec, tearDown, tempDir } from "./harness/fixture.ts";
import { bigBody, type H2Upstream, type SeenRequest, startH2Upstream } from "./harness/h2-upstream.ts";
import { closeSession, h2Request, openSession } from "./harness/http2-client.ts";
import { recordFor } from "./harness/records.ts";
import { engineOf, runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import { sha256 } from "./harness/upstream.ts";

/** An HTTP/1.1 GET that keeps the response's trailers. */
function getWithTrailers(url: string): Promise<{ status: number; body: string; trailers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false, headers: { te: "trailers" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on(
        "end",
        () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), trailers: res.trailers }),
      );
      res.on("error", reject);
    }).on("error", reject);
  });
}

function seenFor(upstream: H2Upstream, m: string): SeenRequest {
  const found = upstream.seen.filter((r) => r.path.includes(m));
  assert.equal(found.length, 1, `the upstream saw ${m} once`);
  return found[0]!;
}

for (const runtime of runtimes) {
  const engine = engineOf(runtime);
  describe(`${runtime}: HTTP/2 to the upstream`, { timeout: 120_000 }, () => {
    let h2c: H2Upstream;
    let h2tls: H2Upstream;
    let h1tls: H2Upstream;
    let tap: Tapline;
    let dir: string;
    before(async () => {
      const { cert, key } = await createSelfSignedCertificate();
      h2c = await startH2Upstream({ kind: "h2c" });
      h2tls = await startH2Upstream({ kind: "h2-tls", cert, key });
      h1tls = await startH2Upstream({ kind: "h1-tls", cert, key });
      dir = tempDir();
      tap = await startTapline(runtime, [
        "--flush-interval",
        "20ms",
        "--proxy",
        proxySpec({ name: "h2c", upstream: h2c.url, upstream_proto: "h2", log_jsonl: `${dir}/` }),
        "--proxy",
        proxySpec({ name: "alpn", upstream: h2tls.url, log_jsonl: `${dir}/` }),
        "--proxy",
        proxySpec({ name: "alpnh1", upstream: h1tls.url, log_jsonl: `${dir}/` }),
        "--proxy",
        proxySpec({ name: "forcedh1", upstream: h2tls.url, upstream_proto: "h1", log_jsonl: `${dir}/` }),
      ]);
    });
    after(async () => {
      await tearDown(tap, [h2c, h2tls, h1tls], dir);
    });

    if (engine !== "node") {
      test(`${engine} speaks HTTP/1.1 to upstreams: upstream_proto=h2 warns, an h2c-only upstream answers nothing`, async () => {
        assert.ok(
          tap.logs.some((l) =>
            l.level === "warn" && new RegExp(`^upstream_proto=h2 cannot be honoured on ${engine}`).test(String(l.msg))
          ),
        );
        const m = marker("h1-only-h2c");
        const res = await request(tap.url("h2c", `/echo?${m}`));
        assert.equal(res.status, 502);
        assert.equal(h2c.seen.length, 0, "an h2c-only upstream never sees an HTTP/1.1 request");
        const alpn = await request(tap.url("alpn", `/echo?${m}`));
        assert.equal((JSON.parse(alpn.body.toString()) as SeenRequest).version, "1.1");
      });
      return;
    }

    test("an HTTP/1.1 client reaches an h2c upstream, body and connection headers handled", async () => {
      const m = marker("h1-to-h2");
      const upload = Buffer.alloc(50_000, "tap ");
      const res = await request(tap.url("h2c", `/echo?${m}`), {
        method: "POST",
        headers: { "content-type": "text/plain", "x-a": "1", connection: "keep-alive", "keep-alive": "timeout=5" },
        body: upload,
      });
      assert.equal(res.status, 200);
      const echo = JSON.parse(res.body.toString()) as SeenRequest;
      assert.equal(echo.version, "2.0");
      assert.equal(echo.method, "POST");
      assert.equal(echo.bodySha256, sha256(upload));
      assert.equal(echo.headers[":authority"], `127.0.0.1:${tap.port("h2c")}`);
      assert.equal(echo.headers["x-a"], "1");
      assert.equal(echo.headers["connection"], undefined);
      assert.equal(echo.headers["keep-alive"], undefined);
      const record = await recordFor(join(dir, "h2c.jsonl"), m);
      assert.equal(record.http_version, "1.1");
      assert.equal(record.response!.status, 200);
      assert.equal(record.request.body_size, upload.length);
    });

    test("te: trailers reaches the h2 upstream and its trailers reach h2 and HTTP/1.1 clients and the record", async () => {
      const m = marker("trailers");
      const session = await openSession(`http://127.0.0.1:${tap.port("h2c")}`);
      try {
        const reply = await h2Request(session, `/trailers?${m}`, { headers: { te: "trailers" } });
        assert.equal(reply.status, 200);
        assert.equal(reply.body.toString(), "one two");
        assert.equal(reply.trailers["x-checksum"], "abc");
        assert.equal(reply.trailers["grpc-status"], "0");
      } finally {
        await closeSession(session);
      }
      assert.equal(seenFor(h2c, m).headers["te"], "trailers");
      const record = await recordFor(join(dir, "h2c.jsonl"), m);
      assert.equal(record.http_version, "2");
      assert.deepEqual(record.response!.trailers, { "X-Checksum": ["abc"], "Grpc-Status": ["0"] });
      const m1 = marker("trailers-h1");
      const h1 = await getWithTrailers(tap.url("h2c", `/trailers?${m1}`));
      assert.equal(h1.body, "one two");
      assert.equal(h1.trailers["x-checksum"], "abc");
    });

    test("request trailers from HTTP/1.1 and h2 clients reach the h2 upstream after the body, and the record", async () => {
      const m = marker("req-trailers");
      const h1 = await postWithTrailers(tap.url("h2c", `/echo?${m}`), "one two", { "x-request-sum": "h1" });
      assert.equal(h1, 200);
      const seen = seenFor(h2c, m);
      assert.equal(seen.bodySize, "one two".length);
      assert.deepEqual(seen.trailers, { "x-request-sum": "h1" });
      const record = await recordFor(join(dir, "h2c.jsonl"), m);
      assert.deepEqual(record.request.trailers, { "X-Request-Sum": ["h1"] });

      const m2 = marker("req-trailers-h2");
      const session = await openSession(`http://127.0.0.1:${tap.port("h2c")}`);
      try {
        const reply = await h2Request(session, `/echo?${m2}`, {
          method: "POST",
          body: "three",
          trailers: { "x-request-sum": "h2", "x-other": "2" },
        });
        assert.equal(reply.status, 200);
      } finally {
        await closeSession(session);
      }
      assert.deepEqual(seenFor(h2c, m2).trailers, { "x-request-sum": "h2", "x-other": "2" });
      const record2 = await recordFor(join(dir, "h2c.jsonl"), m2);
      assert.deepEqual(record2.request.trailers, { "X-Request-Sum": ["h2"], "X-Other": ["2"] });
      // A request without trailers still reaches the upstream with none.
      const m3 = marker("no-trailers");
      await postWithTrailers(tap.url("h2c", `/echo?${m3}`), "four", {});
      assert.deepEqual(seenFor(h2c, m3).trailers, {});
      // Trailers node:http2 refuses to send (content-type twice): the request still ends, without them.
      const m4 = marker("refused-trailers");
      const refused = await postWithTrailers(tap.url("h2c", `/echo?${m4}`), "five", [
        ["content-type", "a/b"],
        ["content-type", "c/d"],
      ]);
      assert.equal(refused, 200);
      assert.equal(seenFor(h2c, m4).bodySize, 4);
      assert.deepEqual(seenFor(h2c, m4).trailers, {});
      const record4 = await recordFor(join(dir, "h2c.jsonl"), m4);
      assert.deepEqual(
        record4.request.trailers,
        { "Content-Type": ["a/b", "c/d"] },
        "the record has what the client sent",
      );
    });

    test("a slow client gets every byte of a large body before the trailers, over HTTP/1.1 and h2c", async () => {
      const size = 3 * 1024 * 1024;
      const expected = sha256(bigBody(size));
      for (const [label, flags] of [["h1", []], ["h2", ["--http2-prior-knowledge"]]] as const) {
        const file = join(dir, `big-${label}.bin`);
        const m = marker(`big-${label}`);
        const res = await curl([
          ...flags,
          "--limit-rate",
          "3M",
          "-o",
          file,
          tap.url("h2c", `/big?size=${size}&m=${m}`),
        ]);
        assert.equal(res.code, 0, `curl ${label}`);
        const got = readFileSync(file);
        assert.equal(got.length, size, `${label}: every byte arrived`);
        assert.equal(sha256(got), expected);
        const record = await recordFor(join(dir, "h2c.jsonl"), m);
        assert.equal(record.response!.body_size, size);
        assert.deepEqual(record.response!.trailers, { "X-Size": [String(size)] });
      }
    });

    test("requests share one upstream session, and after GOAWAY the next request opens another", async () => {
      const m = marker("mux");
      const before = h2c.sessions;
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => request(tap.url("h2c", `/echo?${m}-${i}-`))),
      );
      for (const reply of replies) assert.equal(reply.status, 200);
      assert.ok(h2c.sessions - before <= 1, `20 requests used ${h2c.sessions - before} new sessions`);
      const bye = await request(tap.url("h2c", `/goaway?${m}`));
      assert.equal(bye.body.toString(), "bye");
      const opened = h2c.sessions;
      const again = await request(tap.url("h2c", `/echo?${m}-after`));
      assert.equal(again.status, 200);
      assert.equal(h2c.sessions, opened + 1, "a new session after GOAWAY");
    });

    test("a stream the upstream resets is a 502 for the client and an error in the record", async () => {
      const m = marker("reset");
      const res = await request(tap.url("h2c", `/reset?${m}`));
      assert.equal(res.status, 502);
      const record = await recordFor(join(dir, "h2c.jsonl"), m);
      assert.equal(record.response!.status, 502);
      assert.match(String(record.error), /HTTP\/2|stream/i);
      const next = await request(tap.url("h2c", `/echo?${m}-next`));
      assert.equal(next.status, 200, "the session still serves other streams");
    });

    test("auto picks h2 by ALPN on an https upstream that offers it, HTTP/1.1 on one that does not; h1 forces it", async () => {
      const m = marker("alpn");
      const viaAlpn = JSON.parse((await request(tap.url("alpn", `/echo?${m}`))).body.toString()) as SeenRequest;
      assert.equal(viaAlpn.version, "2.0");
      assert.equal(viaAlpn.headers[":scheme"], "https");
      const viaH1 = JSON.parse((await request(tap.url("alpnh1", `/echo?${m}`))).body.toString()) as SeenRequest;
      assert.equal(viaH1.version, "1.1");
      const second = JSON.parse((await request(tap.url("alpnh1", `/echo?${m}-2`))).body.toString()) as SeenRequest;
      assert.equal(second.version, "1.1");
      const forced = JSON.parse((await request(tap.url("forcedh1", `/echo?${m}`))).body.toString()) as SeenRequest;
      assert.equal(forced.version, "1.1");
      assert.ok(!tap.logs.some((l) => /cannot be honoured/.test(String(l.msg))));
    });
  });
}
