import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { PluginSandbox } from "../../../src/plugins/sandbox.ts";
import { callOk, httpRecord, type Json, jsonBody1k, loadBundled, microsPerCall, setupOk } from "./bundled-fixture.ts";

function sseEvent(data: string): Json {
  return {
    type: "sse_event",
    v: 1,
    id: "e1",
    route_name: "api",
    connection_id: "c1",
    timestamp: "2026-11-21T03:40:00.000Z",
    t_delta_ms: 4,
    event: "message",
    data,
  };
}

function frame(overrides: Json): Json {
  return {
    type: "websocket_frame",
    v: 1,
    id: "f1",
    route_name: "api",
    connection_id: "c1",
    timestamp: "2026-11-21T03:40:00.000Z",
    direction: "server_to_client",
    opcode: 1,
    opcode_name: "text",
    payload_size: 10,
    ...overrides,
  };
}

describe("bundled redaction", () => {
  let sandbox: PluginSandbox;
  before(async () => {
    sandbox = await loadBundled("redaction");
  });
  after(() => sandbox.dispose());

  /** The data of an SSE event after redaction, or undefined when unchanged. */
  const scrub = (text: string): string | undefined => {
    const out = callOk(sandbox, "onCapture", sseEvent(text)) as Json | undefined;
    return out?.data;
  };

  test("asks for onCaptureBatch only when something is configured, and reads nothing: the record stays on the host", () => {
    assert.deepEqual(setupOk(sandbox, {}), { hooks: ["onCaptureBatch"], reads: [] });
    assert.deepEqual(setupOk(sandbox, { headers: [], patterns: [] }), { hooks: [] });
    assert.deepEqual(setupOk(sandbox, { headers: [], patterns: ["email"], in: [] }), { hooks: [] });
    assert.deepEqual(setupOk(sandbox, { patterns: [], in: [] }), { hooks: ["onCaptureBatch"], reads: [] });
  });

  test("a catastrophic custom pattern answers at once: patterns run in linear time", () => {
    setupOk(sandbox, { headers: [], patterns: [], custom: [{ name: "evil", pattern: "(a+)+$" }] });
    // Backtracking would need ~2^5000 steps and hit the 1 s deadline (ok: false); the deadline is the check.
    const subject = { record: sseEvent("a".repeat(5000) + "!") };
    const outcome = sandbox.call("onCapture", "[]", 1000, { records: [subject] });
    assert.deepEqual(outcome, { ok: true, value: undefined });
    assert.equal((subject as { changed?: unknown }).changed, undefined);
    assert.equal(scrub("aaaa"), "[REDACTED:evil]");
  });

  const cases: Record<string, { hit: [string, string][]; miss: string[] }> = {
    email: {
      hit: [
        ["mail ada@example.com now", "mail [REDACTED:email] now"],
        ["to=ada.l%2Bx%40mail.example.co.uk&y=1", "to=[REDACTED:email]&y=1"],
      ],
      miss: ["see example.com or a@b", "user@localhost"],
    },
    bearer: {
      hit: [
        ['{"auth":"Bearer abcDEF123._~+/-xyz=="}', '{"auth":"[REDACTED:bearer]"}'],
        ["bearer 0123456789abcdef", "[REDACTED:bearer]"],
      ],
      miss: ["the bearer of bad news", '"token_type":"Bearer"'],
    },
    jwt: {
      hit: [[
        "t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U;",
        "t=[REDACTED:jwt];",
      ]],
      miss: ["eyJhbGciOiJIUzI1NiJ9 alone", "xeyJa.b.c"],
    },
    credit_card: {
      hit: [
        ["card 4111 1111 1111 1111, exp 12/29", "card [REDACTED:credit_card], exp 12/29"],
        ['{"pan":"5555-5555-5555-4444"}', '{"pan":"[REDACTED:credit_card]"}'],
        ["amex 378282246310005.", "amex [REDACTED:credit_card]."],
      ],
      miss: ["card 4111111111111112", '{"ts":1700000000000}', "4111 1111"],
    },
    ipv4: {
      hit: [
        ["from 192.168.1.100 via 10.0.0.1:8080", "from [REDACTED:ipv4] via [REDACTED:ipv4]:8080"],
      ],
      miss: ["256.1.1.1", "version 1.2.3.4.5", "1.2.3"],
    },
    phone: {
      hit: [
        ["call +1 555 123 4567 today", "call [REDACTED:phone] today"],
        ["(555) 123-4567", "[REDACTED:phone]"],
        ["tel:555.123.4567", "tel:[REDACTED:phone]"],
        ["+44 20 7946 0958", "[REDACTED:phone]"],
        ["+4915123456789", "[REDACTED:phone]"],
      ],
      miss: ['{"ts":1700000000}', "+33 12 34", "x+1234567890"],
    },
    ssn: {
      hit: [["ssn 123-45-6789.", "ssn [REDACTED:ssn]."]],
      miss: ["000-12-3456", "123-00-6789", "2024-01-15", "order 123-45-67890"],
    },
  };

  for (const [name, { hit, miss }] of Object.entries(cases)) {
    test(`pattern ${name}`, () => {
      setupOk(sandbox, { headers: [], patterns: [name] });
      for (const [input, expected] of hit) assert.equal(scrub(input), expected, input);
      for (const input of miss) assert.equal(scrub(input), undefined, input);
    });
  }

  test("all patterns together", () => {
    setupOk(sandbox, {});
    assert.equal(
      scrub("ada@example.com paid with 4111111111111111 from 203.0.113.9, ssn 123-45-6789, call 555-123-4567"),
      "[REDACTED:email] paid with [REDACTED:credit_card] from [REDACTED:ipv4], ssn [REDACTED:ssn], call [REDACTED:phone]",
    );
    assert.equal(scrub(jsonBody1k()), undefined);
  });

  test("listed headers are blanked case-insensitively, other values scanned", () => {
    setupOk(sandbox, { headers: ["Authorization", "x-api-key"], patterns: ["email", "bearer"], in: ["headers"] });
    const record = httpRecord();
    record.request.headers = {
      AUTHORIZATION: ["Bearer abcdefgh12345678"],
      "X-Api-Key": ["k1", "k2"],
      From: ["ada@example.com"],
      "X-Forwarded-Authorization": ["Bearer 0123456789abcdef"],
      Accept: ["*/*"],
    };
    record.response.headers["set-cookie"] = ["a=b"];
    const out = callOk(sandbox, "onCapture", record) as Json;
    assert.deepEqual(out.request.headers, {
      AUTHORIZATION: ["[REDACTED]"],
      "X-Api-Key": ["[REDACTED]", "[REDACTED]"],
      From: ["[REDACTED:email]"],
      "X-Forwarded-Authorization": ["[REDACTED:bearer]"],
      Accept: ["*/*"],
    });
    assert.deepEqual(out.response.headers["set-cookie"], ["a=b"], "set-cookie is not listed here");
  });

  test("default header list; patterns skip headers when headers is not a target", () => {
    setupOk(sandbox, { in: ["request.body"] });
    const record = httpRecord();
    record.request.headers.Cookie = ["session=abc"];
    record.request.headers.From = ["ada@example.com"];
    record.response.headers["Set-Cookie"] = ["session=abc; HttpOnly", "theme=dark"];
    const out = callOk(sandbox, "onCapture", record) as Json;
    assert.deepEqual(out.request.headers.Cookie, ["[REDACTED]"]);
    assert.deepEqual(out.request.headers.From, ["ada@example.com"]);
    assert.deepEqual(out.response.headers["Set-Cookie"], ["[REDACTED]", "[REDACTED]"]);
  });

  test("query: only the part after ? is scanned", () => {
    setupOk(sandbox, { headers: [], in: ["query"] });
    const record = httpRecord();
    record.request.url = "/users/ada@example.com?email=bob%40example.org&ip=10.1.2.3&page=2";
    const out = callOk(sandbox, "onCapture", record) as Json;
    assert.equal(out.request.url, "/users/ada@example.com?email=[REDACTED:email]&ip=[REDACTED:ipv4]&page=2");
    assert.equal(out.request.body, record.request.body);
  });

  test("bodies: text and decoded text are redacted, base64 left alone", () => {
    setupOk(sandbox, { headers: [], patterns: ["email"] });
    const record = httpRecord();
    record.request.body = '{"email":"ada@example.com"}';
    record.response.body = "H4sIAAAAAAAAA6tWSkksSVSyUkopLUotVtJRSs7PS8tMBwB0DhbpFwAAAA==";
    record.response.body_base64 = true;
    record.response.body_decoded = '{"contact":"bob@example.org"}';
    const out = callOk(sandbox, "onCapture", record) as Json;
    assert.equal(out.request.body, '{"email":"[REDACTED:email]"}');
    assert.equal(out.response.body, record.response.body);
    assert.equal(out.response.body_decoded, '{"contact":"[REDACTED:email]"}');

    const binary = httpRecord();
    binary.request.body = "YWRhQGV4YW1wbGUuY29t";
    binary.request.body_base64 = true;
    binary.request.body_decoded = "ada@example.com";
    binary.request.body_decoded_base64 = true;
    assert.equal(callOk(sandbox, "onCapture", binary), undefined);
  });

  test("in limits where patterns apply", () => {
    setupOk(sandbox, { headers: [], patterns: ["email"], in: ["response.body"] });
    const record = httpRecord();
    record.request.body = "ada@example.com";
    record.response.body = "bob@example.org";
    const out = callOk(sandbox, "onCapture", record) as Json;
    assert.equal(out.request.body, "ada@example.com");
    assert.equal(out.response.body, "[REDACTED:email]");
    assert.equal(callOk(sandbox, "onCapture", sseEvent("ada@example.com")), undefined);
  });

  test("WebSocket text payloads and close reasons; binary payloads untouched", () => {
    setupOk(sandbox, { headers: [], patterns: ["email"], in: ["ws"] });
    assert.deepEqual(
      callOk(sandbox, "onCapture", frame({ payload: '{"to":"ada@example.com"}' })),
      frame({ payload: '{"to":"[REDACTED:email]"}' }),
    );
    const close = frame({ opcode: 8, opcode_name: "close", close_code: 4000, close_reason: "bye ada@example.com" });
    assert.equal((callOk(sandbox, "onCapture", close) as Json).close_reason, "bye [REDACTED:email]");
    const binary = frame({ opcode: 2, opcode_name: "binary", payload: "YWRhQGV4YW1wbGUuY29t", payload_base64: true });
    assert.equal(callOk(sandbox, "onCapture", binary), undefined);
  });

  /** A grpc_message record, with `payload_json` unless it is undefined. */
  const grpcMessage = (json: unknown): Json => ({
    type: "grpc_message",
    v: 1,
    id: "g1",
    route_name: "api",
    connection_id: "c1",
    timestamp: "2026-11-21T03:40:00.000Z",
    direction: "client_to_server",
    seq: 0,
    t_delta_ms: 1,
    compressed: false,
    payload_size: 30,
    payload: "CgNhZGE=",
    payload_base64: true,
    ...(json === undefined ? {} : { payload_json: json }),
  });

  test("gRPC: strings and map keys inside payload_json are redacted, and the base64 payload is never kept", () => {
    setupOk(sandbox, { headers: [], patterns: ["email"], in: ["grpc"] });
    const json = { user: { email: "ada@example.com", tags: ["x", "bob@example.org"] }, seen: { "ada@example.com": 3 } };
    assert.deepEqual(
      callOk(sandbox, "onCapture", grpcMessage(json)),
      {
        ...grpcMessage({
          user: { email: "[REDACTED:email]", tags: ["x", "[REDACTED:email]"] },
          seen: { "[REDACTED:email]": 3 },
        }),
        payload: "",
        payload_redacted: true,
      },
    );
    // Nothing matched: the bytes still go (fields the descriptors do not know, `bytes` fields, could hold anything).
    assert.deepEqual(
      callOk(sandbox, "onCapture", grpcMessage({ text: "hello" })),
      { ...grpcMessage({ text: "hello" }), payload: "", payload_redacted: true },
    );
    // No payload_json (no descriptors): there is no text to scan, the record stays as it was.
    assert.equal(callOk(sandbox, "onCapture", grpcMessage(undefined)), undefined);
    setupOk(sandbox, { headers: [], patterns: ["email"], in: ["ws"] });
    assert.equal(callOk(sandbox, "onCapture", grpcMessage(json)), undefined);
  });

  test("gRPC: a call's binary bodies are left out, and its *-bin metadata blanked", () => {
    setupOk(sandbox, { headers: [], patterns: ["email"], in: ["grpc"] });
    const record = httpRecord();
    record.grpc = { service: "s.S", method: "M", status: 5 };
    record.request.body = "AAAAAAMKAWE=";
    record.request.body_base64 = true;
    record.request.headers["X-Trace-Bin"] = ["AQID"];
    record.response.trailers = { "Grpc-Status": ["5"], "Grpc-Status-Details-Bin": ["CAUSEm5vIGFkYUBleGFtcGxlLmNvbQ"] };
    const out = callOk(sandbox, "onCapture", record) as Json;
    assert.equal(out.request.body, "");
    assert.equal(out.request.body_redacted, true);
    assert.equal(out.request.body_base64, undefined);
    assert.equal(out.response.body, "");
    assert.equal(out.response.body_redacted, true);
    assert.equal(out.request.body_size, record.request.body_size, "the size stays");
    assert.deepEqual(out.request.headers["X-Trace-Bin"], ["[REDACTED]"]);
    assert.deepEqual(out.response.trailers, { "Grpc-Status": ["5"], "Grpc-Status-Details-Bin": ["[REDACTED]"] });
    // Not a gRPC call: bodies and -bin names are left to the other targets.
    const plain = httpRecord();
    plain.request.headers["X-Trace-Bin"] = ["AQID"];
    assert.equal(callOk(sandbox, "onCapture", plain), undefined);
  });

  test("trailers are headers: listed names blanked, other values scanned; grpc-message as the text it encodes", () => {
    setupOk(sandbox, { headers: ["x-secret"], patterns: ["email"], in: ["headers"] });
    const record = httpRecord();
    record.response.trailers = {
      "grpc-message": ["no%20account for ada%40example.com%E2%9C%93 (100%)"],
      "x-secret": ["s3"],
    };
    record.grpc = { service: "s.S", method: "M", status: 5, message: "no account for ada@example.com" };
    const out = callOk(sandbox, "onCapture", record) as Json;
    assert.deepEqual(out.grpc, { service: "s.S", method: "M", status: 5, message: "no account for [REDACTED:email]" });
    assert.deepEqual(out.response.trailers, {
      "grpc-message": ["no account for [REDACTED:email]%E2%9C%93 (100%25)"],
      "x-secret": ["[REDACTED]"],
    });
  });

  test("SSE data", () => {
    setupOk(sandbox, { headers: [], in: ["sse"] });
    assert.deepEqual(callOk(sandbox, "onCapture", sseEvent("key 123-45-6789")), sseEvent("key [REDACTED:ssn]"));
  });

  test("custom patterns with and without a replacement", () => {
    setupOk(sandbox, {
      headers: [],
      patterns: [],
      custom: [
        { name: "api_key", pattern: "sk-[A-Za-z0-9]{16,}" },
        { name: "account", pattern: "(acct_)\\w+", flags: "i", replacement: "$1***" },
      ],
    });
    assert.equal(
      scrub("keys sk-abcdefghijklmnop1234 and ACCT_9f8e7d, sk-short"),
      "keys [REDACTED:api_key] and ACCT_***, sk-short",
    );
  });

  test("a custom pattern spanning header values falls back to one value at a time", () => {
    setupOk(sandbox, {
      headers: [],
      patterns: [],
      custom: [{ name: "x", pattern: "a\\nb" }, { name: "t", pattern: "tok" }],
    });
    const record = httpRecord();
    record.request.headers = { "X-One": ["a"], "X-Two": ["b tok"] };
    const out = callOk(sandbox, "onCapture", record) as Json;
    assert.deepEqual(out.request.headers, { "X-One": ["a"], "X-Two": ["b [REDACTED:t]"] });
  });

  test("nothing to redact returns undefined", () => {
    setupOk(sandbox, {});
    assert.equal(callOk(sandbox, "onCapture", httpRecord()), undefined);
    assert.equal(
      callOk(sandbox, "onCapture", { type: "custom", v: 1, id: "x", data: { a: "ada@example.com" } }),
      undefined,
    );
  });

  test("an invalid custom pattern fails setup naming the field", () => {
    const outcome = sandbox.setup(JSON.stringify({ custom: [{ name: "bad", pattern: "[z-a]" }] }), 1000);
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? "" : outcome.message, /custom\[0\]\.pattern: invalid regular expression: /);
  });

  test("long runs of letters and digits stay fast", () => {
    setupOk(sandbox, {});
    const blob = JSON.stringify({ a: "x".repeat(100_000), b: "7".repeat(100_000), c: "a.".repeat(20_000) });
    const subject = { record: sseEvent(blob) };
    const outcome = sandbox.call("onCapture", "[]", 2000, { records: [subject] });
    assert.deepEqual(outcome, { ok: true, value: undefined });
  });

  test("cost per call", () => {
    setupOk(sandbox, {});
    const record = httpRecord();
    const typical = JSON.stringify([record]);
    record.request.body = jsonBody1k();
    record.response.body = jsonBody1k();
    const withBodies = JSON.stringify([record]);
    const secrets = httpRecord();
    secrets.request.headers.Authorization = ["Bearer abcdefgh12345678"];
    secrets.request.body = jsonBody1k().replace("Item number 3", "ada@example.com");
    const redacting = JSON.stringify([secrets]);
    const call = (json: string) => () => {
      const [record] = JSON.parse(json) as [Record<string, unknown>];
      sandbox.call("onCapture", "[]", 100, { records: [{ record }] });
    };
    const a = microsPerCall(call(typical));
    const b = microsPerCall(call(withBodies));
    const c = microsPerCall(call(redacting));
    const body = JSON.stringify([sseEvent(jsonBody1k())]);
    const d = microsPerCall(call(body));
    console.log(
      `redaction: onCapture typical record ${a.toFixed(1)} µs, with two 1 KiB bodies ${b.toFixed(1)} µs, ` +
        `redacting ${c.toFixed(1)} µs, 1 KiB SSE data ${d.toFixed(1)} µs per call`,
    );
    assert.ok(a < 5000 && b < 20000);
  });
});
