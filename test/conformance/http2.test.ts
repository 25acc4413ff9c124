/**
 * HTTP/2 from the client: h2c with prior knowledge on an HTTP listener, next
 * to HTTP/1.1 on the same port, and ALPN `h2` on an HTTPS listener, forwarded
 * to an HTTP/1.1 upstream through the same exchange as HTTP/1.1 (records say
 * `http_version: "2"`). On Bun (`Bun.serve`, and the Bun binary) and Deno
 * (whose node:http2 can abort the process, denoland/deno#36788) tapline
 * answers HTTP/1.1 only, and the test pins that limit: an h2c client gets no HTTP/2 answer,
 * TLS settles on http/1.1, and `http2=on` says in the log that it cannot be
 * honoured.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { curl } from "./harness/curl.ts";
import { closeSession, h2Request, openSession } from "./harness/http2-client.ts";
import { eventually, marker, proxySpec, tearDown, tempDir } from "./harness/fixture.ts";
import { readRecords, recordFor } from "./harness/records.ts";
import { engineOf, runtimes } from "./harness/runtimes.ts";
import { query } from "./harness/sqlite.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import { sha256, startUpstream, type Upstream } from "./harness/upstream.ts";

interface Echo {
  url: string;
  headers: Record<string, string>;
  bodySha256: string;
}

for (const runtime of runtimes) {
  const engine = engineOf(runtime);
  /** Node serves HTTP/2; Bun and Deno answer HTTP/1.1 only (README "HTTP/2 and gRPC"). */
  const h1Only = engine !== "node";
  describe(`${runtime}: HTTP/2 from the client`, { timeout: 120_000 }, () => {
    let up: Upstream;
    let tap: Tapline;
    let dir: string;
    before(async () => {
      up = await startUpstream("h2");
      dir = tempDir();
      tap = await startTapline(runtime, [
        "--flush-interval",
        "20ms",
        "--auto-cert",
        "--proxy",
        proxySpec({
          name: "api",
          upstream: up.url,
          listen_https: "127.0.0.1:0",
          log_jsonl: `${dir}/`,
          log_sqlite: `${dir}/`,
          http2: "on",
        }),
        "--proxy",
        proxySpec({ name: "plain", upstream: up.url, http2: "off" }),
      ]);
    });
    after(() => tearDown(tap, [up], dir));

    if (h1Only) {
      test(`${engine} answers HTTP/1.1 only: h2c gets no HTTP/2 answer, TLS settles on http/1.1`, async () => {
        const h2c = await curl(["--http2-prior-knowledge", "-o", "/dev/null", tap.url("api", "/h1-only-h2c")]);
        assert.notEqual(h2c.code, 0, "an h2c client gets no HTTP/2 answer");
        const tls = await curl([
          "-k",
          "--http2",
          "-o",
          "/dev/null",
          "-w",
          "%{http_version}",
          tap.url("api", "/t", "https"),
        ]);
        assert.equal(tls.stdout, "1.1");
        const plain = await curl(["-o", "/dev/null", "-w", "%{http_code} %{http_version}", tap.url("api", "/h1")]);
        assert.equal(plain.stdout, "200 1.1");
        assert.ok(
          tap.logs.some((l) =>
            l.level === "warn" && new RegExp(`^http2=on cannot be honoured on ${engine}`).test(String(l.msg))
          ),
        );
      });
      return;
    }

    test("curl --http2-prior-knowledge and HTTP/1.1 share the plain listener; records say which", async () => {
      const m2 = marker("h2c");
      const m1 = marker("h1");
      const h2c = await curl([
        "--http2-prior-knowledge",
        "-w",
        "\n%{http_version}",
        "-H",
        "cookie: a=1",
        "-H",
        "cookie: b=2",
        tap.url("api", `/h2c?${m2}`),
      ]);
      assert.equal(h2c.code, 0);
      const [body, version] = h2c.stdout.split("\n");
      assert.equal(version, "2");
      const echo = JSON.parse(body!) as Echo;
      assert.equal(echo.url, `/h2c?${m2}`);
      // :authority became Host, the split cookie fields one header (RFC 9113 §8.2.3, §8.3.1).
      assert.equal(echo.headers["host"], `127.0.0.1:${tap.port("api")}`);
      assert.equal(echo.headers["cookie"], "a=1; b=2");
      const h1 = await curl(["-w", "\n%{http_version}", tap.url("api", `/h1?${m1}`)]);
      assert.equal(h1.stdout.split("\n")[1], "1.1");
      const file = join(dir, "api.jsonl");
      const record = await recordFor(file, m2);
      assert.equal(record.http_version, "2");
      assert.equal(record.request.method, "GET");
      assert.equal(record.request.url, `/h2c?${m2}`);
      assert.equal((await recordFor(file, m1)).http_version, "1.1");
      const rows = await eventually(
        () =>
          query(join(dir, "api.db"), `SELECT http_version, req_proto FROM http_entries WHERE req_url LIKE '%${m2}%'`),
        (found) => found.length === 1,
        4_000,
      );
      assert.deepEqual(rows, [{ http_version: "2", req_proto: "HTTP/2.0" }]);
    });

    test("curl --http2 over TLS settles on h2 by ALPN", async () => {
      const m = marker("alpn");
      const res = await curl(["-k", "--http2", "-w", "\n%{http_version}", tap.url("api", `/alpn?${m}`, "https")]);
      assert.equal(res.code, 0);
      const [body, version] = res.stdout.split("\n");
      assert.equal(version, "2");
      assert.equal((JSON.parse(body!) as Echo).headers["x-forwarded-proto"], "https");
      assert.equal((await recordFor(join(dir, "api.jsonl"), m)).http_version, "2");
    });

    test("100 multiplexed streams with different delays each get and record their own body", async () => {
      const session = await openSession(`http://127.0.0.1:${tap.port("api")}`);
      const m = marker("mux");
      try {
        const replies = await Promise.all(
          Array.from({ length: 100 }, (_, i) => h2Request(session, `/delay?ms=${(i * 37) % 300}&m=${m}-${i}-`)),
        );
        replies.forEach((reply, i) => {
          assert.equal(reply.status, 200);
          assert.equal((JSON.parse(reply.body.toString()) as Echo).url, `/delay?ms=${(i * 37) % 300}&m=${m}-${i}-`);
        });
      } finally {
        await closeSession(session);
      }
      const records = await eventually(
        () => readRecords(join(dir, "api.jsonl")).filter((r) => r.request.url.includes(m)),
        (found) => found.length === 100,
        10_000,
      );
      for (const record of records) {
        assert.equal(record.http_version, "2");
        assert.equal((JSON.parse(record.response!.body!) as Echo).url, record.request.url);
      }
    });

    test("a request body and response trailers cross HTTP/2 and are recorded", async () => {
      const session = await openSession(`https://127.0.0.1:${tap.port("api", "https")}`);
      const m = marker("body");
      const upload = Buffer.alloc(200_000, "tapline ");
      try {
        const reflected = await h2Request(session, `/reflect?${m}`, { method: "POST", body: upload });
        assert.equal(reflected.status, 200);
        assert.equal(sha256(reflected.body), sha256(upload));
        const trailed = await h2Request(session, `/trailers?${m}`);
        assert.equal(trailed.body.toString(), "one two");
        assert.equal(trailed.trailers["x-checksum"], "abc");
      } finally {
        await closeSession(session);
      }
      assert.equal(up.one(`/reflect?${m}`).sha256, sha256(upload));
      const file = join(dir, "api.jsonl");
      const posted = await recordFor(file, `/reflect?${m}`);
      assert.equal(posted.request.body_size, upload.length);
      const trailer = await recordFor(file, `/trailers?${m}`);
      assert.deepEqual(trailer.response!.trailers, { "X-Checksum": ["abc"] });
    });

    test("http2=off answers HTTP/1.1 only", async () => {
      const h2c = await curl(["--http2-prior-knowledge", "-o", "/dev/null", tap.url("plain", "/off")]);
      assert.notEqual(h2c.code, 0);
      const h1 = await curl(["-o", "/dev/null", "-w", "%{http_code} %{http_version}", tap.url("plain", "/off")]);
      assert.equal(h1.stdout, "200 1.1");
      assert.ok(!tap.logs.some((l) => /cannot be honoured/.test(String(l.msg))));
    });
  });
}

for (const runtime of runtimes.filter((r) => engineOf(r) === "node")) {
  describe(`${runtime}: HTTP/2 at shutdown`, { timeout: 60_000 }, () => {
    let up: Upstream;
    let tap: Tapline;
    let dir: string;
    before(async () => {
      up = await startUpstream("h2-shutdown");
      dir = tempDir();
      tap = await startTapline(runtime, [
        "--proxy",
        proxySpec({ name: "api", upstream: up.url, log_jsonl: `${dir}/` }),
      ]);
    });
    after(() => tearDown(tap, [up], dir));

    test("SIGTERM sends GOAWAY and the stream in flight finishes", async () => {
      const session = await openSession(`http://127.0.0.1:${tap.port("api")}`);
      let goaway = false;
      session.on("goaway", () => (goaway = true));
      session.on("error", () => {});
      const m = marker("goaway");
      const stream = h2Request(session, `/slow?chunks=10&interval=100&m=${m}`);
      await eventually(() => up.requests.some((r) => r.url.includes(m)), (seen) => seen, 5_000);
      const exited = tap.stop("SIGTERM", 20_000);
      const reply = await stream;
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString().split("\n").filter(Boolean).length, 10);
      assert.ok(goaway, "the session received GOAWAY");
      assert.equal((await exited).code, 0);
      await closeSession(session);
      assert.equal((await recordFor(join(dir, "api.jsonl"), m)).http_version, "2");
    });
  });
}
