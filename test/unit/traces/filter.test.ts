import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compileFilter, FilterError, filterType } from "../../../src/traces/filter/filter.ts";
import type { CaptureRecord, HttpRecord } from "../../../src/shared/record.ts";

function http(
  id: string,
  fields: Partial<HttpRecord> & { status?: number; url?: string; method?: string },
): HttpRecord {
  const { status, url, method, ...rest } = fields;
  return {
    type: "http",
    v: 1,
    id,
    route_name: "api",
    timestamp: "2026-12-03T10:00:00.000Z",
    duration_ms: 10,
    ttfb_request_ms: 1,
    ttfb_response_ms: 5,
    client_ip: "127.0.0.1:5000",
    upstream: "http://127.0.0.1:9000",
    request: { method: method ?? "GET", url: url ?? "/", headers: { Host: ["example.test"] }, body_size: 0 },
    ...(status === undefined ? {} : {
      response: { status, status_text: "", headers: { "Content-Type": ["application/json"] }, body_size: 0 },
    }),
    ...rest,
  };
}

/** A corpus with one record per trait the filters look at. */
const CORPUS: CaptureRecord[] = [
  http("get-ok", { status: 200, url: "/api/users?page=2", duration_ms: 12 }),
  http("post-created", {
    method: "POST",
    status: 201,
    url: "/api/users",
    duration_ms: 640,
    correlation_id: "corr-1",
    request: {
      method: "POST",
      url: "/api/users",
      headers: { "Content-Type": ["application/json"], Authorization: ["Bearer abc.def"] },
      body: '{"name":"Ada","password":"hunter2"}',
      body_size: 35,
    },
  }),
  http("not-found", { status: 404, url: "/missing", duration_ms: 3, route_name: "web" }),
  http("boom", {
    status: 503,
    url: "/api/slow",
    duration_ms: 2500,
    response: {
      status: 503,
      status_text: "Service Unavailable",
      headers: { "Retry-After": ["5"] },
      body: "upstream overloaded",
      body_size: 19,
    },
  }),
  http("failed", { url: "/api/crash", error: "upstream connection refused", duration_ms: 1 }),
  http("gzip", {
    status: 200,
    url: "/feed",
    response: {
      status: 200,
      status_text: "OK",
      headers: { "Content-Encoding": ["gzip"] },
      body: "H4sIAAAA",
      body_base64: true,
      body_size: 30,
      body_decoded: "decoded needle text",
    },
  }),
  http("upgrade", { status: 101, url: "/ws" }),
  {
    type: "websocket_frame",
    v: 1,
    id: "frame-1",
    route_name: "api",
    connection_id: "upgrade",
    timestamp: "2026-12-03T10:00:01.000Z",
    direction: "client_to_server",
    opcode: 1,
    opcode_name: "text",
    payload: "hello from client",
    payload_size: 17,
  },
  {
    type: "websocket_frame",
    v: 1,
    id: "frame-2",
    route_name: "api",
    connection_id: "upgrade",
    timestamp: "2026-12-03T10:00:01.100Z",
    direction: "server_to_client",
    opcode: 1,
    opcode_name: "text",
    payload: "hello from server",
    payload_size: 17,
  },
  http("stream", { status: 200, url: "/events", sse_events: 1 }),
  {
    type: "sse_event",
    v: 1,
    id: "event-1",
    route_name: "api",
    connection_id: "stream",
    timestamp: "2026-12-03T10:00:02.000Z",
    t_delta_ms: 100,
    event: "message",
    data: '{"token":"needle"}',
  },
  {
    type: "custom",
    v: 1,
    id: "custom-1",
    route_name: "api",
    timestamp: "2026-12-03T10:00:03.000Z",
    plugin: "usage",
    connection_id: "post-created",
    data: { tokens: 42, model: "needle-1" },
  },
];

function ids(filter: string): string[] {
  const compiled = compileFilter(filter);
  return CORPUS.filter((record) => compiled.matches(record)).map((record) => record.id);
}

describe("filter: each key against a corpus with known answers", () => {
  const cases: [string, string[]][] = [
    ["", CORPUS.map((r) => r.id)],
    ["~m POST", ["post-created"]],
    ["~m post", ["post-created"]],
    ["~s 404", ["not-found"]],
    ["~s 5xx", ["boom"]],
    ["~s 2XX", ["get-ok", "post-created", "gzip", "stream"]],
    ["~s 1xx", ["upgrade"]],
    ["~u ^/api/", ["get-ok", "post-created", "boom", "failed"]],
    ["~u page=\\d", ["get-ok"]],
    ["~u USERS$", ["post-created"]],
    ['~h "content-type: json"', ["get-ok", "post-created", "not-found", "upgrade", "stream"]],
    ['~hq "content-type: json"', ["post-created"]],
    ['~hs "retry-after: ^5$"', ["boom"]],
    ["~hq authorization", ["post-created"]],
    // post-created's request has no Host header.
    ['~h "^host: example"', CORPUS.filter((r) => r.type === "http" && r.id !== "post-created").map((r) => r.id)],
    ['~u "^/api/(users|slow)$"', ["post-created", "boom"]],
    ["~b password", ["post-created"]],
    ["~bq hunter", ["post-created"]],
    ["~bs hunter", []],
    ["~bs overloaded", ["boom"]],
    ["~b needle", ["gzip", "event-1", "custom-1"]],
    ["~b H4sI", []],
    ["~bq client", ["frame-1"]],
    ["~bs client", []],
    ["~b 'hello from'", ["frame-1", "frame-2"]],
    ["~r web", ["not-found"]],
    ["~t http", ["get-ok", "post-created", "not-found", "boom", "failed", "gzip"]],
    ["~t websocket", ["upgrade", "frame-1", "frame-2"]],
    ["~t sse", ["stream", "event-1"]],
    ["~t custom", ["custom-1"]],
    ["~d >500ms", ["post-created", "boom"]],
    ["~d > 2s", ["boom"]],
    ["~d <=3", ["not-found", "failed"]],
    ["~d =12ms", ["get-ok"]],
    ["~d 0.6s", ["post-created", "boom"]],
    ["~c corr-1", ["post-created"]],
    ["~c upgrade", ["upgrade", "frame-1", "frame-2"]],
    ["~c post-created", ["post-created", "custom-1"]],
    ["~e", ["failed"]],
    ["users", ["get-ok", "post-created"]],
    ["USERS", ["get-ok", "post-created"]],
    ['"/api/users?page"', ["get-ok"]],
  ];
  for (const [filter, expected] of cases) {
    test(JSON.stringify(filter), () => assert.deepEqual(ids(filter), expected));
  }
});

describe("filter: operators and precedence", () => {
  const cases: [string, string[]][] = [
    ["!~t http", ["upgrade", "frame-1", "frame-2", "stream", "event-1", "custom-1"]],
    ["~u ^/api & ~s 2xx", ["get-ok", "post-created"]],
    ["~u ^/api ~s 2xx", ["get-ok", "post-created"]],
    ["~s 404 | ~e", ["not-found", "failed"]],
    // & binds tighter than |: this is ~s 404 | (~e & ~r web).
    ["~s 404 | ~e & ~r web", ["not-found"]],
    ["(~s 404 | ~e) & ~r api", ["failed"]],
    ["!(~t http | ~t websocket)", ["stream", "event-1", "custom-1"]],
    ["!!~e", ["failed"]],
    ["~t http & !~u ^/api", ["not-found", "gzip"]],
    ["((~m POST))", ["post-created"]],
  ];
  for (const [filter, expected] of cases) {
    test(JSON.stringify(filter), () => assert.deepEqual(ids(filter), expected));
  }
});

describe("filter: errors name the column and what was expected", () => {
  const cases: [string, number, RegExp][] = [
    ["~s 5xx & (~m POST", 18, /expected "\)" to close the "\(" at column 10, found the end of the filter/],
    ["~m", 3, /~m \(column 1\) needs a method, e\.g\. ~m POST, found the end of the filter/],
    ["~m )", 4, /~m \(column 1\) needs a method/],
    ["~x foo", 1, /unknown filter "~x"/],
    ["~s 600", 4, /"600" is not a status/],
    ["~s abc", 4, /"abc" is not a status/],
    ["~t smtp", 4, /unknown record type "smtp" \(known: http, websocket, sse, grpc, custom\)/],
    ["~d fast", 4, /"fast" is not a duration/],
    ["~d >", 5, /~d \(column 1\) needs a duration/],
    ['~u "(a"', 4, /invalid regular expression: missing closing \)/],
    ['~u "(?<=a)b"', 4, /lookbehind is not supported in linear-time patterns/],
    ["~u (a|b)", 4, /found "\(": quote a regular expression that holds spaces or any of \( \) & \| !/],
    ["~b \\1", 4, /invalid regular expression/],
    ["~m GET &", 9, /expected a filter, found the end of the filter/],
    ["~m GET | | ~e", 10, /expected a filter, found "\|"/],
    ["~e )", 4, /expected "&", "\|" or the end of the filter, found "\)"/],
    ["'unclosed", 1, /the quote ' opened here is never closed/],
    ["~u x{1000}{1000}", 4, /invalid nested repetition operator/],
    ['~u "(ab|cd){1000}(ab|cd){1000}"', 4, /is too complex \(14002 instructions, at most 10000\)/],
  ];
  for (const [filter, column, message] of cases) {
    test(JSON.stringify(filter), () => {
      assert.throws(() => compileFilter(filter), (error: unknown) => {
        assert.ok(error instanceof FilterError, String(error));
        assert.equal(error.code, "filter_invalid");
        assert.equal(error.column, column, error.message);
        assert.match(error.message, new RegExp(`^Invalid filter at column ${column}: `));
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test("a filter longer than 4096 characters is refused before parsing", () => {
    assert.throws(() => compileFilter("a".repeat(4097)), /at most 4096 characters/);
  });
});

describe("filter: helpers", () => {
  test("filterType names upgrades and event streams by what they carry", () => {
    assert.deepEqual(CORPUS.map((r) => filterType(r)), [
      "http",
      "http",
      "http",
      "http",
      "http",
      "http",
      "websocket",
      "websocket",
      "websocket",
      "sse",
      "sse",
      "custom",
    ]);
  });

  test("matchesAll is true only for the empty filter", () => {
    assert.equal(compileFilter("  ").matchesAll, true);
    assert.equal(compileFilter("~e").matchesAll, false);
  });

  test("a regex that backtracks exponentially in V8 runs in linear time", () => {
    // (a+)+$ against a run of a's ending in "!" takes V8 2^n steps; RE2 one pass.
    const evil = compileFilter('~b "(a+)+$"');
    const body = "a".repeat(200_000) + "!";
    const record = http("evil", { status: 200, request: { method: "GET", url: "/", headers: {}, body, body_size: 1 } });
    const started = performance.now();
    // No match: the text ends in "!", not in an a.
    assert.equal(evil.matches(record), false);
    assert.ok(performance.now() - started < 5_000, "a linear-time engine answers in well under 5 s");
  });
});
