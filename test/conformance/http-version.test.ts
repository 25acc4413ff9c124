/**
 * `http_version` on every `http` record: the version the client spoke. An
 * HTTP/1.1 client is recorded as "1.1" and an HTTP/1.0 client as "1.0"
 * (SQLite: `http_version` and http-tap-proxy's `req_proto`). `Bun.serve`
 * does not say which version a request came in, so on Bun (and the Bun
 * binary) the test pins that limit: an HTTP/1.0 client is recorded as "1.1".
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "./harness/client.ts";
import { eventually, marker, tearDown, tempDir } from "./harness/fixture.ts";
import { recordFor } from "./harness/records.ts";
import { engineOf, runtimes } from "./harness/runtimes.ts";
import { query } from "./harness/sqlite.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import { startUpstream, type Upstream } from "./harness/upstream.ts";

/** One HTTP/1.0 request on a raw socket; resolves with the status line. */
function http10(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(`GET ${path} HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    });
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("end", () => resolve(text.slice(0, text.indexOf("\r\n"))));
    socket.on("error", reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error("HTTP/1.0 request timed out")));
  });
}

for (const runtime of runtimes) {
  describe(`${runtime}: http_version`, { timeout: 60_000 }, () => {
    let up: Upstream;
    let tap: Tapline;
    let dir: string;
    before(async () => {
      up = await startUpstream("version");
      dir = tempDir();
      tap = await startTapline(runtime, [
        "--flush-interval",
        "20ms",
        "--proxy",
        `name=api,listen_http=127.0.0.1:0,upstream=${up.url},log_jsonl=${dir}/,log_sqlite=${dir}/`,
      ]);
    });
    after(() => tearDown(tap, [up], dir));

    test("HTTP/1.1 and HTTP/1.0 clients are recorded with their version, in JSONL and SQLite", async () => {
      const v11 = marker("v11");
      const v10 = marker("v10");
      assert.equal((await request(tap.url("api", `/v?${v11}`))).status, 200);
      const status = await http10(tap.port("api"), `/v?${v10}`);
      assert.match(status, /^HTTP\/1\.[01] 200 /);
      const expected10 = engineOf(runtime) === "bun" ? "1.1" : "1.0";
      assert.equal((await recordFor(join(dir, "api.jsonl"), v11)).http_version, "1.1");
      assert.equal((await recordFor(join(dir, "api.jsonl"), v10)).http_version, expected10);
      const rows = await eventually(
        () =>
          query(
            join(dir, "api.db"),
            `SELECT http_version, req_proto FROM http_entries WHERE req_url LIKE '%${v10}%' OR req_url LIKE '%${v11}%' ` +
              "ORDER BY req_url",
          ),
        (found) => found.length >= 2,
        4_000,
      );
      assert.deepEqual(rows, [
        { http_version: expected10, req_proto: `HTTP/${expected10}` },
        { http_version: "1.1", req_proto: "HTTP/1.1" },
      ]);
    });
  });
}
