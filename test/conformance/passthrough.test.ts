/**
 * Forwarding and capture through one tapline process per runtime with three
 * routes in directory mode: `api` and `filt` to upstream u1, `b` to upstream u2.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { rawValues, request } from "./harness/client.ts";
import { marker, proxySpec, removeDir, RFC3339_RE, tempDir, UUID_RE } from "./harness/fixture.ts";
import { assertAllValid, bodyBytes, headerValues, readRecords, recordFor, waitForRecords } from "./harness/records.ts";
import { engineOf, runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import { GZIP_PLAIN_TEXT, sha256, startUpstream, textBytes, type Upstream } from "./harness/upstream.ts";

const T = { timeout: 30_000 };

for (const runtime of runtimes) {
  describe(`${runtime}: forwarding and capture`, { timeout: 150_000 }, () => {
    let u1: Upstream;
    let u2: Upstream;
    let tap: Tapline;
    let dir: string;
    const file = (route: string) => join(dir, `${route}.jsonl`);
    const url = (path: string, route = "api") => tap.url(route, path);

    before(async () => {
      u1 = await startUpstream("u1");
      u2 = await startUpstream("u2");
      dir = tempDir();
      tap = await startTapline(runtime, [
        "--proxy",
        proxySpec({ name: "api", upstream: u1.url, log_jsonl: `${dir}/` }),
        "--proxy",
        proxySpec({ name: "b", upstream: u2.url, log_jsonl: `${dir}/` }),
        "--proxy",
        proxySpec({
          name: "filt",
          upstream: u1.url,
          log_jsonl: `${dir}/`,
          include_path: "^/api/",
          exclude_path: "^/api/private",
        }),
      ]);
    });

    after(async () => {
      try {
        if (tap) {
          const status = await tap.stop();
          assert.equal(status.code, 0, `exit status after SIGTERM\n${tap.stderrTail()}`);
        }
      } finally {
        await u1?.close();
        await u2?.close();
        removeDir(dir);
      }
    });

    test("GET passes method, path, query, status and headers through", T, async () => {
      const m = marker("get");
      const target = `/echo/a%20b/c?x=1&y=%2F&z&m=${m}`;
      const res = await request(url(target), {
        headers: { "x-test": "hello", "x-dup": ["a", "b"], "user-agent": "conformance/1" },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers["x-upstream"], "u1");
      assert.deepEqual(
        rawValues(res.rawHeaders, "set-cookie"),
        ["a=1; Path=/", "b=2; Path=/"],
        "both set-cookie values reach the client",
      );
      assert.equal(rawValues(res.rawHeaders, "x-multi").join(", "), "one, two");
      const seen = u1.one(m);
      assert.equal(seen.method, "GET");
      assert.equal(seen.url, target, "path and query arrive exactly as sent (no re-encoding)");
      assert.equal(seen.headers["x-test"], "hello");
      assert.equal(seen.headers["user-agent"], "conformance/1");
      assert.equal(rawValues(seen.rawHeaders, "x-dup").join(", "), "a, b");
      const echoed = JSON.parse(res.body.toString("utf8")) as { url: string };
      assert.equal(echoed.url, target);
    });

    test("non-200 statuses and their reason phrases reach the client", T, async () => {
      for (const [code, text] of [[201, "Created"], [404, "Not Found"], [500, "Internal Server Error"]] as const) {
        const res = await request(url(`/status/${code}?m=${marker("st")}`));
        assert.equal(res.status, code);
        assert.equal(res.statusMessage, text);
        assert.equal(res.body.toString("utf8"), `status ${code}\n`);
      }
    });

    test("PUT, DELETE, PATCH, OPTIONS and HEAD keep their method", T, async () => {
      for (const method of ["PUT", "DELETE", "PATCH", "OPTIONS"]) {
        const m = marker(method.toLowerCase());
        const res = await request(url(`/method?m=${m}`), { method, body: `body of ${method}` });
        assert.equal(res.status, 200, method);
        const seen = u1.one(m);
        assert.equal(seen.method, method);
        assert.equal(seen.body.toString("utf8"), `body of ${method}`);
      }
      const m = marker("head");
      const res = await request(url(`/method?m=${m}`), { method: "HEAD" });
      assert.equal(res.status, 200);
      assert.equal(res.body.length, 0, "HEAD response has no body");
      assert.equal(u1.one(m).method, "HEAD");
    });

    test("request bodies of 50 KB and 1 MB arrive identical", T, async () => {
      for (const size of [50 * 1024, 1024 * 1024]) {
        const m = marker(`up${size}`);
        const body = randomBytes(size);
        const res = await request(url(`/upload?m=${m}`), {
          method: "POST",
          body,
          headers: { "content-type": "application/octet-stream" },
        });
        assert.equal(res.status, 200);
        const seen = u1.one(m);
        assert.equal(seen.body.length, size);
        assert.equal(seen.sha256, sha256(body), `sha256 of the ${size}-byte request body at the upstream`);
        const record = await recordFor(file("api"), m);
        assert.equal(record.request.body_size, size);
        assert.equal(sha256(bodyBytes(record.request)), sha256(body), "captured request body is the exact bytes");
      }
    });

    test("response bodies of 50 KB and 1 MB arrive identical", T, async () => {
      for (const size of [50 * 1024, 1024 * 1024]) {
        const m = marker(`down${size}`);
        const res = await request(url(`/bytes/${size}?kind=binary&m=${m}`));
        assert.equal(res.status, 200);
        assert.equal(res.body.length, size);
        assert.equal(
          sha256(res.body),
          res.headers["x-body-sha256"],
          `sha256 of the ${size}-byte response at the client`,
        );
        const record = await recordFor(file("api"), m);
        assert.equal(record.response?.body_size, size);
        assert.equal(record.response?.body_base64, true);
        assert.equal(sha256(bodyBytes(record.response)), sha256(res.body), "captured response body is the exact bytes");
      }
    });

    test("a chunked upload sent in several writes arrives intact", T, async () => {
      const m = marker("chunked");
      const chunks = [textBytes(1000), Buffer.from("second chunk\n"), textBytes(7000), Buffer.from("end\n")];
      const whole = Buffer.concat(chunks);
      const res = await request(url(`/chunked?m=${m}`), { method: "POST", body: chunks, chunkDelayMs: 30 });
      assert.equal(res.status, 200);
      const seen = u1.one(m);
      assert.equal(seen.body.length, whole.length);
      assert.equal(seen.sha256, sha256(whole));
      const record = await recordFor(file("api"), m);
      assert.equal(record.request.body_size, whole.length);
      assert.equal(record.request.body, whole.toString("utf8"));
    });

    test("X-Forwarded-For/-Proto/-Host are set when absent and Host is forwarded", T, async () => {
      const m = marker("xf");
      const res = await request(url(`/xf?m=${m}`));
      assert.equal(res.status, 200);
      const h = u1.one(m).headers;
      const clientHost = `127.0.0.1:${tap.port("api")}`;
      assert.equal(h["x-forwarded-for"], "127.0.0.1");
      assert.equal(h["x-forwarded-proto"], "http");
      assert.equal(h["x-forwarded-host"], clientHost);
      assert.equal(h["host"], clientHost, "the client's Host header is forwarded, not rewritten to the upstream");
    });

    test("client X-Forwarded-* headers are kept, X-Forwarded-For gets the client appended", T, async () => {
      const m = marker("xf2");
      const res = await request(url(`/xf?m=${m}`), {
        headers: {
          host: "tapline.test",
          "x-forwarded-for": "10.1.2.3",
          "x-forwarded-proto": "https",
          "x-forwarded-host": "public.example",
        },
      });
      assert.equal(res.status, 200);
      const h = u1.one(m).headers;
      assert.equal(h["x-forwarded-for"], "10.1.2.3, 127.0.0.1");
      assert.equal(h["x-forwarded-proto"], "https");
      assert.equal(h["x-forwarded-host"], "public.example");
      assert.equal(h["host"], "tapline.test");
    });

    test("hop-by-hop headers are not forwarded in either direction", T, async () => {
      const m = marker("hop");
      // POST with a chunked body: node's client only allows a Trailer header on chunked messages.
      const res = await request(url(`/hop?m=${m}`), {
        method: "POST",
        body: ["hop ", "body"],
        headers: {
          connection: "keep-alive, X-Hop-Custom",
          "x-hop-custom": "drop me",
          "keep-alive": "timeout=5",
          "proxy-connection": "keep-alive",
          te: "deflate",
          trailer: "X-Trailer-Field",
          upgrade: "foo/1",
          "x-end-to-end": "keep me",
        },
      });
      assert.equal(res.status, 200);
      const h = u1.one(m).headers;
      for (const name of ["x-hop-custom", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"]) {
        assert.equal(h[name], undefined, `${name} must not reach the upstream (got ${JSON.stringify(h[name])})`);
      }
      assert.doesNotMatch(
        String(h["connection"] ?? ""),
        /x-hop-custom/i,
        "Connection-listed names are not forwarded in Connection",
      );
      assert.equal(h["x-end-to-end"], "keep me");
      assert.equal(u1.one(m).body.toString("utf8"), "hop body");
      assert.equal(
        res.headers["x-resp-hop"],
        undefined,
        "a header the upstream listed in Connection must not reach the client",
      );
      assert.equal(res.headers["proxy-connection"], undefined);
      assert.equal(res.headers["x-upstream"], "u1");
    });

    test("gzip responses pass through byte for byte; the record has base64 and body_decoded", T, async () => {
      const m = marker("gzip");
      const res = await request(url(`/gzip?m=${m}`), { headers: { "accept-encoding": "gzip" } });
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-encoding"], "gzip");
      assert.equal(sha256(res.body), res.headers["x-body-sha256"], "client receives the compressed bytes unchanged");
      const record = await recordFor(file("api"), m);
      const r = record.response;
      assert.ok(r, "record has a response");
      assert.equal(r.body_base64, true);
      assert.equal(sha256(bodyBytes(r)), res.headers["x-body-sha256"], "record body is the compressed bytes");
      assert.equal(r.body_size, res.body.length);
      assert.equal(r.body_decoded, GZIP_PLAIN_TEXT, "body_decoded holds the decoded text");
      assert.notEqual(r.body_decoded_base64, true);
      assert.deepEqual(headerValues(r.headers, "content-encoding"), ["gzip"]);
    });

    test("a record carries every documented field", T, async () => {
      const m = marker("fields");
      const started = Date.now();
      const body = "field test body\n";
      const res = await request(url(`/fields/x?m=${m}&q=1`), {
        method: "POST",
        body,
        headers: { "x-test": "v1", "x-dup": ["a", "b"], "content-type": "text/plain" },
      });
      assert.equal(res.status, 200);
      const record = await recordFor(file("api"), m);
      assert.equal(record.type, "http");
      assert.equal(record.v, 1);
      assert.match(record.id, UUID_RE);
      assert.equal(record.route_name, "api");
      assert.match(record.timestamp, RFC3339_RE);
      const ts = Date.parse(record.timestamp);
      assert.ok(
        Math.abs(ts - started) < 5_000,
        `timestamp ${record.timestamp} is the request start (test started ${new Date(started).toISOString()})`,
      );
      for (const k of ["duration_ms", "ttfb_request_ms", "ttfb_response_ms"] as const) {
        assert.equal(typeof record[k], "number", k);
        assert.ok(record[k] >= 0, `${k} = ${record[k]} >= 0`);
      }
      assert.ok(
        record.ttfb_response_ms <= record.duration_ms + 1,
        `ttfb_response_ms ${record.ttfb_response_ms} <= duration_ms ${record.duration_ms}`,
      );
      assert.equal(record.client_ip, `127.0.0.1:${res.localPort}`, "client_ip is the client's ip:port");
      assert.ok(
        record.upstream === u1.url || record.upstream === `${u1.url}/`,
        `upstream ${record.upstream} is ${u1.url}`,
      );
      assert.equal(record.request.method, "POST");
      assert.equal(record.request.url, `/fields/x?m=${m}&q=1`);
      assert.deepEqual(headerValues(record.request.headers, "x-test"), ["v1"]);
      // Bun.serve exposes request headers only as a joined Headers object, so
      // repeated lines arrive combined; RFC 9110 §5.3 makes that equivalent.
      assert.deepEqual(
        headerValues(record.request.headers, "x-dup"),
        engineOf(runtime) === "bun" ? ["a, b"] : ["a", "b"],
        "repeated request headers keep every value",
      );
      assert.equal(record.request.body, body);
      assert.equal(record.request.body_size, Buffer.byteLength(body));
      assert.notEqual(record.request.body_truncated, true);
      assert.notEqual(record.request.body_base64, true);
      const r = record.response;
      assert.ok(r, "record has a response");
      assert.equal(r.status, 200);
      assert.equal(r.status_text, "OK");
      assert.deepEqual(headerValues(r.headers, "set-cookie"), ["a=1; Path=/", "b=2; Path=/"]);
      assert.deepEqual(headerValues(r.headers, "x-upstream"), ["u1"]);
      assert.equal(r.body, res.body.toString("utf8"));
      assert.equal(r.body_size, res.body.length);
      assert.equal(record.error, undefined);
      assert.notEqual(record.disconnected, true);
      for (const [name, values] of Object.entries(record.request.headers)) {
        assert.ok(
          Array.isArray(values) && values.every((v) => typeof v === "string"),
          `request header ${name} is a list of strings`,
        );
      }
    });

    test("correlation_id comes from X-Request-ID, then X-Correlation-ID, then X-Trace-ID", T, async () => {
      const cases: Array<[Record<string, string>, string | undefined]> = [
        [{ "x-request-id": "req-1" }, "req-1"],
        [{ "x-correlation-id": "cor-1" }, "cor-1"],
        [{ "x-trace-id": "trace-1" }, "trace-1"],
        [{ "x-trace-id": "trace-2", "x-correlation-id": "cor-2", "x-request-id": "req-2" }, "req-2"],
        [{ "x-trace-id": "trace-3", "x-correlation-id": "cor-3" }, "cor-3"],
        [{}, undefined],
      ];
      const markers: string[] = [];
      for (const [headers] of cases) {
        const m = marker("corr");
        markers.push(m);
        assert.equal((await request(url(`/corr?m=${m}`), { headers })).status, 200);
      }
      for (const [i, [headers, expected]] of cases.entries()) {
        const record = await recordFor(file("api"), markers[i]!);
        if (expected === undefined) {
          assert.ok(
            !("correlation_id" in record),
            `no correlation_id without the headers (got ${JSON.stringify(record.correlation_id)})`,
          );
        } else {
          assert.equal(record.correlation_id, expected, `headers ${JSON.stringify(headers)}`);
        }
      }
    });

    test("binary bodies are base64 and exact; UTF-8 text with tabs and newlines stays text", T, async () => {
      const binaries: Array<[string, Buffer]> = [
        ["random", randomBytes(3000)],
        ["invalid-utf8", Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x80, 0x41, 0xc3])],
        ["control", Buffer.from("abc\x01\x02\x1bdef\x00", "utf8")],
      ];
      for (const [label, bytes] of binaries) {
        const m = marker(label);
        const res = await request(url(`/reflect?m=${m}`), { method: "POST", body: bytes });
        assert.equal(res.status, 200);
        assert.ok(res.body.equals(bytes), `${label}: client receives the bytes back`);
        const record = await recordFor(file("api"), m);
        assert.equal(record.request.body_base64, true, `${label}: request body is base64`);
        assert.ok(bodyBytes(record.request).equals(bytes), `${label}: request body decodes to the exact bytes`);
        assert.equal(record.response?.body_base64, true, `${label}: response body is base64`);
        assert.ok(bodyBytes(record.response).equals(bytes), `${label}: response body decodes to the exact bytes`);
        assert.equal(record.request.body_size, bytes.length);
      }
      const text = "tab\there\r\nline two\nünïcödé ✓ 日本語\n";
      const m = marker("text");
      await request(url(`/reflect?m=${m}`), {
        method: "POST",
        body: text,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
      const record = await recordFor(file("api"), m);
      assert.notEqual(record.request.body_base64, true, "UTF-8 text with tab, CR and LF is not base64");
      assert.equal(record.request.body, text);
      assert.equal(record.request.body_size, Buffer.byteLength(text));
      assert.notEqual(record.response?.body_base64, true);
      assert.equal(record.response?.body, text);
    });

    test("include_path then exclude_path filter capture only; every request is forwarded", T, async () => {
      const paths = { included: "/api/public", excluded: "/api/private/x", outside: "/other" };
      const ms: Record<string, string> = {};
      for (const [label, path] of Object.entries(paths)) {
        ms[label] = marker(label);
        const res = await request(url(`${path}?m=${ms[label]}`, "filt"));
        assert.equal(res.status, 200, `${label} is forwarded`);
        assert.equal(u1.one(ms[label]!).url, `${path}?m=${ms[label]}`);
      }
      // A last captured request: once it is written, the earlier ones would be too.
      const last = marker("last");
      await request(url(`/api/last?m=${last}`, "filt"));
      await recordFor(file("filt"), last);
      await recordFor(file("filt"), ms["included"]!);
      const urls = readRecords(file("filt")).map((r) => r.request.url);
      assert.ok(!urls.some((u) => u.includes(ms["excluded"]!)), "excluded path is not captured");
      assert.ok(!urls.some((u) => u.includes(ms["outside"]!)), "path outside include_path is not captured");
      assert.ok(
        !readRecords(file("api")).some((r) => r.request.url.includes(ms["excluded"]!)),
        "not captured under another route either",
      );
    });

    test("directory mode with two proxies writes DIR/<route>.jsonl per route", T, async () => {
      const m = marker("multi");
      const res = await request(url(`/multi?m=${m}`, "b"));
      assert.equal(res.status, 200);
      assert.equal(res.headers["x-upstream"], "u2", "route b forwards to its own upstream");
      assert.equal(u2.one(m).url, `/multi?m=${m}`);
      const record = await recordFor(file("b"), m);
      assert.equal(record.route_name, "b");
      assert.ok(record.upstream === u2.url || record.upstream === `${u2.url}/`);
      const inA = readRecords(file("api"));
      assert.ok(inA.length > 0, "api.jsonl has records");
      assert.deepEqual([...new Set(inA.map((r) => r.route_name))], ["api"], "api.jsonl holds only route api");
      assert.deepEqual(
        [...new Set(readRecords(file("b")).map((r) => r.route_name))],
        ["b"],
        "b.jsonl holds only route b",
      );
      assert.deepEqual(
        [...new Set(readRecords(file("filt")).map((r) => r.route_name))],
        ["filt"],
        "filt.jsonl holds only route filt",
      );
    });

    test("50 concurrent POSTs are all answered and all recorded with their bodies", T, async () => {
      const m = marker("conc");
      const n = 50;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          request(url(`/conc?m=${m}&i=${i}`), {
            method: "POST",
            body: `body ${i} of ${m}`,
            headers: { "x-request-id": `${m}-${i}` },
          })),
      );
      for (const [i, res] of results.entries()) {
        assert.equal(res.status, 200, `request ${i}`);
        const echoed = JSON.parse(res.body.toString("utf8")) as { bodySha256: string; url: string };
        assert.equal(echoed.url, `/conc?m=${m}&i=${i}`, `response ${i} belongs to request ${i}`);
        assert.equal(echoed.bodySha256, sha256(`body ${i} of ${m}`));
      }
      const records = await waitForRecords(file("api"), (r) => r.request.url.includes(m), n, 10_000);
      assert.equal(records.length, n);
      const byId = new Map(records.map((r) => [r.correlation_id, r]));
      for (let i = 0; i < n; i++) {
        const r = byId.get(`${m}-${i}`);
        assert.ok(r, `record for request ${i}`);
        assert.equal(r.request.body, `body ${i} of ${m}`);
        assert.equal(r.request.url, `/conc?m=${m}&i=${i}`);
        assert.equal(r.response?.status, 200);
      }
    });

    test("every record written validates against schemas/record.schema.json", T, async () => {
      const m = marker("final");
      await request(url(`/final?m=${m}`));
      await recordFor(file("api"), m);
      const total = assertAllValid([file("api"), file("b"), file("filt")]);
      assert.ok(total >= 30, `validated ${total} records`);
    });
  });
}
