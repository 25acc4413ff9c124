/**
 * Plugins through one tapline process per runtime, declared in a YAML config:
 * the bundled path-filter, text-replace and redaction end to end (redaction
 * checked in JSONL and SQLite, and from the upstream's side), a custom capture
 * script's records, README's manifest-less script (examples/plugins/not-found.js),
 * `respond`, `capture: false` and header/status patches;
 * then start-up failures of a broken plugin module and of bad plugin config.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { CustomRecord, SseEventRecord, WebSocketFrameRecord } from "../../src/shared/record.ts";
import { request } from "./harness/client.ts";
import { marker, sleep, tearDown, tempDir, UUID_RE } from "./harness/fixture.ts";
import { databaseText, metric, metricsText, writeConfig, writePlugins } from "./harness/plugin-config.ts";
import {
  ANTHROPIC_STREAM,
  OPENAI_STREAM,
  type PluginUpstream,
  SSE_SECRET,
  startPluginUpstream,
  WS_GREETING,
  wsConverse,
} from "./harness/plugin-upstream.ts";
import {
  asCapture,
  assertAllValid,
  bodyBytes,
  headerValues,
  type HttpRecord,
  readRecords,
  recordFor,
  waitForRecords,
} from "./harness/records.ts";
import { repoRoot, runtimes } from "./harness/runtimes.ts";
import { query, requireSqlite3 } from "./harness/sqlite.ts";
import { runTapline, startTapline, type Tapline } from "./harness/tapline.ts";

const T = { timeout: 30_000 };
const WAIT_MS = 5_000;
const SQLITE_WAIT_MS = 12_000;

/** A custom capture script: one `custom` record per http record. */
const USAGE_PLUGIN = `
export const manifest = {
  name: "usage", version: "1.0.0", description: "Emits one custom record per exchange",
  hooks: ["onCapture"],
};
export function onCapture(record) {
  if (record.type !== "http") return undefined;
  emit({ kind: "exchange", method: record.request.method, url: record.request.url,
    status: record.response ? record.response.status : null });
  return undefined;
}
`;

/** Answers /blocked itself, skips capture of /nocap, patches request and response heads. */
const CONTROL_PLUGIN = `
export const manifest = {
  name: "control", version: "1.0.0", description: "respond, capture:false and head patches",
  hooks: ["onRequest", "onResponse"],
};
export function onRequest(req) {
  if (req.path === "/blocked") {
    return { respond: { status: 403, headers: { "x-blocked-by": "control" }, body: "blocked by plugin" } };
  }
  if (req.path.startsWith("/nocap")) return { capture: false };
  return { headers: { "x-plugin-added": "yes", "x-drop-me": null } };
}
export function onResponse(res, req) {
  if (!req.path.startsWith("/patched")) return undefined;
  return { status: 201, headers: { "x-resp-plugin": "yes", "x-upstream-only": null } };
}
`;

/** A module that does not compile: the `;` on line 3, column 15. */
const BROKEN_PLUGIN = [
  `export const manifest = { name: "broken", version: "1.0.0", description: "x", hooks: ["onRequest"] };`,
  `export function onRequest(req) {`,
  `  return { a: ;`,
  `}`,
  ``,
].join("\n");

/** Values a redaction must keep off disk while upstream and client still see them. */
const SECRETS = {
  authorization: "Bearer abcdefgh12345678XYZ",
  cookie: "session=topsecretcookievalue",
  email: "alice@example.com",
  bearer: "Bearer sk9876543210abcdef",
  jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2hlcmU",
  card: "4111 1111 1111 1111",
} as const;
/** Substrings that must appear nowhere in the redacting proxy's JSONL and SQLite. */
const FORBIDDEN = [
  "abcdefgh12345678XYZ",
  "topsecretcookievalue",
  "alice@example.com",
  "sk9876543210abcdef",
  "eyJhbGciOiJIUzI1NiJ9",
  "4111 1111 1111 1111",
  "cookie-from-upstream",
  "carol@example.net",
  "bob@example.org",
];

const PROXIES = ["pf", "pfs", "tr", "red", "cus", "ctl", "nf"] as const;

for (const runtime of runtimes) {
  describe(`${runtime}: plugins`, { timeout: 180_000 }, () => {
    let up: PluginUpstream;
    let tap: Tapline;
    let dir: string;
    const jsonl = (route: string) => join(dir, `${route}.jsonl`);
    let db: string;

    before(async () => {
      up = await startPluginUpstream();
      dir = tempDir("tapline-plugins-");
      db = join(dir, "red.db");
      writePlugins(dir, { "usage.js": USAGE_PLUGIN, "control.js": CONTROL_PLUGIN });
      const config = writeConfig(dir, "tapline.yaml", {
        listen_admin: "127.0.0.1:0",
        flush_interval: "50ms",
        proxies: PROXIES.map((name) => ({
          name,
          listen_http: "127.0.0.1:0",
          upstream: up.url,
          log_jsonl: jsonl(name),
          ...(name === "red" ? { log_sqlite: db } : {}),
        })),
        plugins: [
          {
            id: "pf",
            use: "path-filter",
            routes: ["pf"],
            config: { include: ["^/api/"], exclude: ["^/api/private"], methods: ["GET", "POST"] },
          },
          { id: "pfs", use: "path-filter", routes: ["pfs"], config: { status: ["5xx"] } },
          {
            id: "tr",
            use: "text-replace",
            routes: ["tr"],
            config: {
              rules: [
                { match: "hello world", replace: "HELLO PLANET", in: ["sse"] },
                { match: "secretword", replace: "REPLACED-WORD", in: ["request.body", "response.body", "ws"] },
              ],
            },
          },
          { id: "red", use: "redaction", routes: ["red"] },
          { id: "usage", use: "./usage.js", routes: ["cus"] },
          { id: "llm", use: join(repoRoot, "examples/plugins/llm-usage.js"), routes: ["cus"] },
          { id: "control", use: "./control.js", routes: ["ctl"] },
          { id: "missing", use: join(repoRoot, "examples/plugins/not-found.js"), routes: ["nf"] },
        ],
      });
      tap = await startTapline(runtime, ["--config", config]);
    });

    after(() => tearDown(tap, [up], dir));

    test("path-filter: include, exclude and methods decide capture at request time", T, async () => {
      const m = marker("pf");
      const sends: Array<[string, string, boolean]> = [
        ["GET", `/api/in?m=${m}-a`, true],
        ["GET", `/other?m=${m}-b`, false],
        ["GET", `/api/private/x?m=${m}-c`, false],
        ["DELETE", `/api/del?m=${m}-d`, false],
        ["POST", `/api/post?m=${m}-e`, true],
      ];
      for (const [method, path] of sends) {
        const res = await request(tap.url("pf", path), { method, timeoutMs: WAIT_MS });
        assert.equal(res.status, 200, `${method} ${path}: the client gets the upstream's answer`);
        assert.deepEqual(JSON.parse(res.body.toString("utf8")), { method, url: path });
        assert.equal(up.one(path).method, method, `the upstream saw ${method} ${path}`);
      }
      const recorded = await waitForRecords(jsonl("pf"), (r) => r.request?.url.includes(m) ?? false, 2, WAIT_MS);
      await sleep(300);
      const all = readRecords(jsonl("pf")).filter((r) => r.request?.url.includes(m));
      assert.deepEqual(
        all.map((r) => `${r.request.method} ${r.request.url}`).sort(),
        sends.filter(([, , kept]) => kept).map(([method, path]) => `${method} ${path}`).sort(),
        "only included paths with allowed methods are captured",
      );
      assert.equal(recorded.length, 2);
      const calls = metric(await metricsText(tap), "tapline_plugin_calls_total", "hook=onRequest,plugin=pf");
      assert.ok((calls ?? 0) >= sends.length, `onRequest calls of pf: ${calls}`);
    });

    test("path-filter: status [5xx] drops 2xx records at capture time", T, async () => {
      const m = marker("pfs");
      const ok = await request(tap.url("pfs", `/status/200?m=${m}-ok`), { timeoutMs: WAIT_MS });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.toString("utf8"), "status 200\n", "the client gets the 2xx answer");
      const bad = await request(tap.url("pfs", `/status/503?m=${m}-bad`), { timeoutMs: WAIT_MS });
      assert.equal(bad.status, 503);
      assert.equal(bad.body.toString("utf8"), "status 503\n");
      const record = await recordFor(jsonl("pfs"), `${m}-bad`, WAIT_MS);
      assert.equal(record.response?.status, 503);
      await sleep(300);
      assert.equal(readRecords(jsonl("pfs")).filter((r) => r.request?.url.includes(`${m}-ok`)).length, 0);
      assert.equal(up.find(m).length, 2, "the upstream saw both requests");
      const dropped = metric(await metricsText(tap), "tapline_plugin_records_dropped_total", "plugin=pfs");
      assert.ok((dropped ?? 0) >= 1, `records dropped by pfs: ${dropped}`);
    });

    test("text-replace: JSON response body, with a correct Content-Length", T, async () => {
      const m = marker("trjson");
      const res = await request(tap.url("tr", `/json?say=the+secretword+is+out&m=${m}`), { timeoutMs: WAIT_MS });
      assert.equal(res.status, 200);
      const text = res.body.toString("utf8");
      assert.equal(text, JSON.stringify({ message: "the REPLACED-WORD is out" }));
      assert.equal(Number(res.headers["content-length"]), res.body.length, "Content-Length matches the new body");
      assert.equal(res.headers["transfer-encoding"], undefined);
    });

    test("text-replace: request body reaches the upstream replaced", T, async () => {
      const m = marker("trreq");
      const body = "the secretword and the secretword again";
      const res = await request(tap.url("tr", `/reflect?m=${m}`), {
        method: "POST",
        body,
        headers: { "content-type": "text/plain; charset=utf-8" },
        timeoutMs: WAIT_MS,
      });
      assert.equal(res.status, 200);
      const seen = up.one(m);
      const want = "the REPLACED-WORD and the REPLACED-WORD again";
      assert.equal(seen.body.toString("utf8"), want, "the upstream received the replacement");
      assert.equal(Number(seen.headers["content-length"] ?? seen.body.length), seen.body.length);
      assert.equal(res.body.toString("utf8"), want);
      assert.equal(Number(res.headers["content-length"]), res.body.length);
    });

    test("text-replace: an SSE event split across network chunks is replaced", T, async () => {
      const m = marker("trsse");
      const res = await request(tap.url("tr", `/sse/split-hello?m=${m}`), { timeoutMs: WAIT_MS });
      assert.equal(res.status, 200);
      const text = res.body.toString("utf8");
      assert.match(text, /^data: ?HELLO PLANET\r?\n\r?\n$/, `client stream: ${JSON.stringify(text)}`);
      assert.ok(!text.includes("hel") || !text.includes("lo world"), "no original fragment reaches the client");
    });

    test("text-replace: WebSocket text messages are replaced both ways", T, async () => {
      const m = marker("trws");
      const got = await wsConverse(`ws://127.0.0.1:${tap.port("tr")}/ws/echo?m=${m}`, ["client says secretword"], 2);
      const seen = up.sockets.find((s) => s.url.includes(m));
      assert.ok(seen, "the upstream saw the connection");
      assert.deepEqual(seen.messages, ["client says REPLACED-WORD"], "client to server replaced");
      assert.deepEqual(
        [...got].sort(),
        ["client says REPLACED-WORD", WS_GREETING.replace("secretword", "REPLACED-WORD")].sort(),
        "server to client replaced",
      );
    });

    test("redaction: upstream and client see the original, JSONL holds only redacted data", T, async () => {
      const m = marker("red");
      const body = JSON.stringify({
        contact: SECRETS.email,
        token: SECRETS.bearer,
        jwt: SECRETS.jwt,
        card: SECRETS.card,
      });
      const res = await request(tap.url("red", `/reflect?m=${m}`), {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          authorization: SECRETS.authorization,
          cookie: SECRETS.cookie,
        },
        timeoutMs: WAIT_MS,
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString("utf8"), body, "the client got the original body");
      assert.match(String(res.headers["set-cookie"]), /cookie-from-upstream/, "the client got the original cookie");
      const seen = up.one(m);
      assert.equal(seen.body.toString("utf8"), body, "the upstream received the original body");
      assert.equal(seen.headers["authorization"], SECRETS.authorization);
      assert.equal(seen.headers["cookie"], SECRETS.cookie);

      const record = await recordFor(jsonl("red"), m, WAIT_MS);
      assert.deepEqual(headerValues(record.request.headers, "authorization"), ["[REDACTED]"]);
      assert.deepEqual(headerValues(record.request.headers, "cookie"), ["[REDACTED]"]);
      assert.deepEqual(headerValues(record.response?.headers, "set-cookie"), ["[REDACTED]"]);
      for (const [part, captured] of [["request", record.request], ["response", record.response]] as const) {
        const text = bodyBytes(captured).toString("utf8");
        for (const tag of ["email", "bearer", "jwt", "credit_card"]) {
          assert.ok(text.includes(`[REDACTED:${tag}]`), `${part} body has [REDACTED:${tag}]: ${text}`);
        }
      }

      // An SSE event and WebSocket frames, redacted in the records only.
      const sse = await request(tap.url("red", `/sse/secret?m=${m}`), { timeoutMs: WAIT_MS });
      assert.equal(sse.status, 200);
      assert.ok(sse.body.toString("utf8").includes(SSE_SECRET), "the client got the original event");
      const sseRecord = await recordFor(jsonl("red"), `/sse/secret?m=${m}`, WAIT_MS);
      const events = await waitForRecords(jsonl("red"), (r) => {
        const c = asCapture(r);
        return c.type === "sse_event" && c.connection_id === sseRecord.id;
      });
      assert.equal((asCapture(events[0]!) as SseEventRecord).data, "mail [REDACTED:email] now");

      const wsText = "contact bob@example.org please";
      const got = await wsConverse(`ws://127.0.0.1:${tap.port("red")}/ws/echo?m=${m}`, [wsText], 2);
      assert.ok(got.includes(wsText), "the client got the original echo");
      assert.deepEqual(up.sockets.find((s) => s.url.includes(m))?.messages, [wsText], "the upstream got the original");
      const upgrade = await recordFor(jsonl("red"), `/ws/echo?m=${m}`, WAIT_MS);
      const frames = await waitForRecords(jsonl("red"), (r) => {
        const c = asCapture(r);
        return c.type === "websocket_frame" && c.connection_id === upgrade.id && c.opcode_name === "text";
      }, 3);
      const payloads = frames.map((f) => (asCapture(f) as WebSocketFrameRecord).payload);
      assert.equal(payloads.filter((p) => p === "contact [REDACTED:email] please").length, 2, JSON.stringify(payloads));

      const file = readFileSync(jsonl("red"), "utf8");
      for (const secret of FORBIDDEN) assert.ok(!file.includes(secret), `JSONL holds "${secret}"`);
    });

    test("redaction: SQLite holds only redacted data", T, async () => {
      requireSqlite3();
      const m = marker("redsql");
      const res = await request(tap.url("red", `/reflect?m=${m}`), {
        method: "POST",
        body: `mail ${SECRETS.email}`,
        headers: { "content-type": "text/plain", authorization: SECRETS.authorization },
        timeoutMs: WAIT_MS,
      });
      assert.equal(res.status, 200);
      // The SQLite sink rewrites its file every 5 s by default.
      const deadline = Date.now() + SQLITE_WAIT_MS;
      let rows: Array<Record<string, unknown>> = [];
      while (Date.now() < deadline) {
        try {
          rows = query(
            db,
            `SELECT req_authorization, CAST(req_body AS TEXT) AS body FROM http_entries WHERE req_url LIKE '%${m}%'`,
          );
        } catch {
          rows = [];
        }
        if (rows.length > 0) break;
        await sleep(100);
      }
      assert.equal(rows.length, 1, `one row for ${m} in ${db}`);
      assert.equal(rows[0]!["req_authorization"], "[REDACTED]");
      assert.equal(rows[0]!["body"], "mail [REDACTED:email]");
      const text = databaseText(db);
      assert.ok(text.includes("[REDACTED:jwt]"), "the earlier records are in SQLite, redacted");
      assert.ok(text.includes("mail [REDACTED:email] now"), "the SSE event is in SQLite, redacted");
      assert.ok(text.includes("contact [REDACTED:email] please"), "the WebSocket frames are in SQLite, redacted");
      for (const secret of FORBIDDEN) assert.ok(!text.includes(secret), `SQLite holds "${secret}"`);
      const raw = readFileSync(db).toString("latin1");
      for (const secret of FORBIDDEN) assert.ok(!raw.includes(secret), `the SQLite file's bytes hold "${secret}"`);
    });

    test("a custom capture script emits custom records carrying the plugin id and exchange id", T, async () => {
      const m = marker("cus");
      const res = await request(tap.url("cus", `/status/201?m=${m}`), { timeoutMs: WAIT_MS });
      assert.equal(res.status, 201);
      const record = await recordFor(jsonl("cus"), m, WAIT_MS);
      const [custom] = await waitForRecords(jsonl("cus"), (r) => {
        const c = asCapture(r);
        return c.type === "custom" && c.connection_id === record.id;
      });
      const c = asCapture(custom!) as CustomRecord;
      assert.equal(c.plugin, "usage");
      assert.equal(c.route_name, "cus");
      assert.equal(c.v, 1);
      assert.match(c.id, UUID_RE);
      assert.notEqual(c.id, record.id);
      assert.deepEqual(c.data, { kind: "exchange", method: "GET", url: `/status/201?m=${m}`, status: 201 });
      const emitted = metric(await metricsText(tap), "tapline_plugin_emitted_total", "plugin=usage");
      assert.ok((emitted ?? 0) >= 1, `tapline_plugin_emitted_total of usage: ${emitted}`);
    });

    test("examples/plugins/llm-usage.js emits one usage record per streamed LLM response", T, async () => {
      const m = marker("llm");
      const cases = [
        {
          path: `/v1/chat/completions?m=${m}`,
          stream: OPENAI_STREAM,
          want: {
            provider: "openai",
            model: "gpt-4o-mini",
            input_tokens: 12,
            output_tokens: 40,
            total_tokens: 52,
            events: 4,
            finish_reason: "stop",
            complete: true,
          },
        },
        {
          path: `/v1/messages?m=${m}`,
          stream: ANTHROPIC_STREAM,
          want: {
            provider: "anthropic",
            model: "claude-3-5-haiku",
            input_tokens: 25,
            output_tokens: 15,
            total_tokens: 40,
            events: 4,
            stop_reason: "end_turn",
            complete: true,
          },
        },
      ];
      for (const { path, stream, want } of cases) {
        const res = await request(tap.url("cus", path), { method: "POST", body: "{}", timeoutMs: WAIT_MS });
        assert.equal(res.status, 200);
        assert.equal(res.body.toString("utf8"), stream.join(""), "the client gets the stream unchanged");
        const record = await recordFor(jsonl("cus"), path, WAIT_MS);
        const found = await waitForRecords(jsonl("cus"), (r) => {
          const c = asCapture(r);
          return c.type === "custom" && c.plugin === "llm" && c.connection_id === record.id;
        });
        assert.equal(found.length, 1, `one llm record for ${path}`);
        const c = asCapture(found[0]!) as CustomRecord;
        assert.deepEqual(c.data, want, path);
        assert.equal(c.route_name, "cus");
      }
    });

    test("a script without a manifest (README's not-found.js) tags 404 records and emits custom ones", T, async () => {
      const loaded = tap.logs.find((l) => l.msg === "plugin loaded" && l["plugin"] === "missing");
      assert.deepEqual(
        loaded && [loaded["name"], loaded["version"], loaded["hooks"], loaded["fail"]],
        ["not-found", "0.0.0", ["onCapture"], "open"],
        "named after its file, version 0.0.0, hooks from its exports, failing open",
      );
      const m = marker("nf");
      const missing = await request(tap.url("nf", `/status/404?m=${m}`), { timeoutMs: WAIT_MS });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.toString("utf8"), "status 404\n", "the client gets the upstream's answer");
      const found = await request(tap.url("nf", `/status/200?m=${m}`), { timeoutMs: WAIT_MS });
      assert.equal(found.status, 200);

      const tagged = await recordFor(jsonl("nf"), `/status/404?m=${m}`, WAIT_MS);
      assert.deepEqual(tagged.tags, { not_found: true });
      const plain = await recordFor(jsonl("nf"), `/status/200?m=${m}`, WAIT_MS);
      assert.equal(plain.tags, undefined, "a 200 record is unchanged");
      const ours = (r: HttpRecord) => {
        const c = asCapture(r);
        return c.type === "custom" && JSON.stringify(c.data).includes(m);
      };
      await waitForRecords(jsonl("nf"), ours);
      await sleep(200);
      const customs = readRecords(jsonl("nf")).filter(ours);
      assert.equal(customs.length, 1, `one custom record, for the 404 only: ${JSON.stringify(customs)}`);
      const c = asCapture(customs[0]!) as CustomRecord;
      assert.equal(c.plugin, "missing");
      assert.equal(c.connection_id, tagged.id);
      assert.deepEqual(c.data, { missing: `/status/404?m=${m}` });
    });

    test("respond answers without the upstream; capture:false skips the record; head patches apply", T, async () => {
      const m = marker("ctl");
      const blocked = await request(tap.url("ctl", `/blocked?m=${m}`), { timeoutMs: WAIT_MS });
      assert.equal(blocked.status, 403);
      assert.equal(blocked.body.toString("utf8"), "blocked by plugin");
      assert.equal(blocked.headers["x-blocked-by"], "control");
      assert.equal(Number(blocked.headers["content-length"]), blocked.body.length);
      assert.equal(up.find(`/blocked?m=${m}`).length, 0, "the upstream saw no request for /blocked");

      const nocap = await request(tap.url("ctl", `/nocap?m=${m}`), { timeoutMs: WAIT_MS });
      assert.equal(nocap.status, 200);
      assert.equal(up.find(`/nocap?m=${m}`).length, 1, "capture:false still forwards");

      const patched = await request(tap.url("ctl", `/patched?m=${m}`), {
        headers: { "x-drop-me": "please" },
        timeoutMs: WAIT_MS,
      });
      assert.equal(patched.status, 201, "onResponse changed the status the client sees");
      assert.equal(patched.headers["x-resp-plugin"], "yes", "onResponse added a header");
      assert.deepEqual(JSON.parse(patched.body.toString("utf8")), { method: "GET", url: `/patched?m=${m}` });
      const seen = up.one(`/patched?m=${m}`);
      assert.equal(seen.headers["x-plugin-added"], "yes", "onRequest's header reached the upstream");
      assert.equal(seen.headers["x-drop-me"], undefined, "onRequest's header removal reached the upstream");

      const record = await recordFor(jsonl("ctl"), `/patched?m=${m}`, WAIT_MS);
      assert.equal(record.response?.status, 201);
      await recordFor(jsonl("ctl"), `/blocked?m=${m}`, WAIT_MS);
      await sleep(200);
      assert.equal(readRecords(jsonl("ctl")).filter((r) => r.request?.url.includes(`/nocap?m=${m}`)).length, 0);
    });

    test("every record validates against the schema", T, () => {
      const files = PROXIES.map(jsonl);
      const records = files.flatMap((f) => readRecords(f)).map(asCapture);
      assert.ok(records.some((r) => r.type === "custom"), "there are custom records");
      assert.ok(assertAllValid(files) >= 15);
    });

    test("a plugin that does not compile stops start-up with exit 78 naming file:line:column", T, async () => {
      const file = join(dir, "broken.js");
      writeFileSync(file, BROKEN_PLUGIN);
      const config = writeConfig(dir, "broken.yaml", {
        proxies: [{ name: "b", listen_http: "127.0.0.1:0", upstream: up.url }],
        plugins: [{ id: "broken", use: "./broken.js" }],
      });
      const r = await runTapline(runtime, ["--config", config]);
      assert.equal(r.code, 78, `exit code\n${r.stderr}`);
      assert.ok(r.stderr.includes(`${file}:3:15`), `stderr names ${file}:3:15\n${r.stderr}`);
      assert.match(r.stderr, /SyntaxError/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    });

    test(
      "bad bundled plugin config stops start-up with exit 78 naming the YAML file:line:column and field",
      T,
      async () => {
        const trFile = join(dir, "bad-tr.yaml");
        writeFileSync(
          trFile,
          [
            "proxies:",
            "  - name: b",
            "    listen_http: 127.0.0.1:0",
            `    upstream: ${up.url}`,
            "plugins:",
            "  - id: tr",
            "    use: text-replace",
            "    config:",
            "      rules:",
            "        - match: foo",
            "          replace: bar",
            "          bogus: 1",
            "",
          ].join("\n"),
        );
        const pfFile = join(dir, "bad-pf.yaml");
        writeFileSync(
          pfFile,
          [
            "proxies:",
            "  - name: b",
            "    listen_http: 127.0.0.1:0",
            `    upstream: ${up.url}`,
            "plugins:",
            "  - id: pf",
            "    use: path-filter",
            "    config:",
            '      include: "^/x"',
            "",
          ].join("\n"),
        );
        for (const [file, line, field] of [[trFile, 12, "bogus"], [pfFile, 9, "include"]] as const) {
          const r = await runTapline(runtime, ["--config", file]);
          assert.equal(r.code, 78, `exit code for ${file}\n${r.stderr}`);
          assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${line}:\\d+`), r.stderr);
          assert.ok(r.stderr.includes(field), `stderr names ${field}\n${r.stderr}`);
          assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
        }
      },
    );
  });
}
