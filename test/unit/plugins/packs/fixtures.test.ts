/**
 * Fixtures run each hook through a one-plugin chain in the real sandbox; the
 * normalized outputs, emitted records, failures and diffs are the contract a
 * pack's users rely on.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readFixtures, runFixture } from "../../../../src/plugins/packs/fixtures.ts";
import { parsePackManifest } from "../../../../src/plugins/packs/pack-manifest.ts";
import type { PackContents } from "../../../../src/plugins/packs/pack-files.ts";
import { ConfigError } from "../../../../src/shared/errors.ts";
import { stubLogger } from "../inline-fixture.ts";
import { packOf } from "./pack-fixture.ts";

const env = { logger: stubLogger().logger };

async function results(contents: PackContents) {
  const manifest = parsePackManifest(new TextDecoder().decode(contents.get("tapline-pack.yaml")), "tapline-pack.yaml");
  const fixtures = readFixtures(manifest, contents);
  const out = [];
  for (const fixture of fixtures) out.push(await runFixture(manifest, contents, fixture, env));
  return out;
}

const HOOKS_SOURCE = `
export function onRequest(req) {
  if (req.path === "/answer") return { respond: { status: 204 } };
  if (req.path === "/skip") return { capture: false };
  return { headers: { "x-seen": req.method + " " + req.url, cookie: null } };
}
export function onResponse(res) { return { status: res.status === 200 ? 201 : res.status, headers: { "x-res": "1" } }; }
export function onResponseBody(body) { return body.replace("secret", "[gone]"); }
export function onSseEvent(event) { return event.data === "drop" ? null : { ...event, data: event.data.toUpperCase() }; }
export function onWsMessage(msg) { return msg.direction === "client_to_server" ? msg.data + "!" : undefined; }
export function onGrpcMessage(msg, call) {
  if (call.method === "Drop") return null;
  return msg.direction === "server_to_client" ? { payload: "CgF6" } : undefined;
}
export function onCapture(record) {
  emit({ saw: record.id });
  if (record.request.url === "/drop") return null;
  return { ...record, tags: { seen: "yes" } };
}
`;

test("each hook's output is normalized as the fixture format documents", async () => {
  const fixtures = `
fixtures:
  - name: request patch
    hook: onRequest
    input: { request: { method: POST, url: "/a?b=1", headers: { Cookie: c, Accept: "*/*" } } }
    expect: { request: { method: POST, url: "/a?b=1", headers: { accept: "*/*", x-seen: "POST /a?b=1" } } }
  - name: respond without the upstream
    hook: onRequest
    input: { request: { url: /answer } }
    expect: { respond: { status: 204 } }
  - name: not captured
    hook: onRequest
    input: { request: { url: /skip } }
    expect: { request: { method: GET, url: /skip, headers: {} }, capture: false }
  - name: response head
    hook: onResponse
    input: { response: { status: 200, headers: { Content-Type: text/plain } } }
    expect: { response: { status: 201, status_text: OK, headers: { content-type: text/plain, x-res: "1" } } }
  - name: response body
    hook: onResponseBody
    input: { body: "a secret here", response: { headers: { content-type: text/plain } } }
    expect: { body: "a [gone] here" }
  - name: sse event changed
    hook: onSseEvent
    input: { event: { data: hi } }
    expect: { event: { event: message, data: HI } }
  - name: sse event dropped
    hook: onSseEvent
    input: { event: { data: drop } }
    expect: { dropped: true }
  - name: ws message
    hook: onWsMessage
    input: { message: { direction: client_to_server, data: hey } }
    expect: { data: hey! }
  - name: ws message unchanged
    hook: onWsMessage
    input: { message: { direction: server_to_client, data: hey } }
    expect: { data: hey }
  - name: grpc message replaced
    hook: onGrpcMessage
    input: { message: { direction: server_to_client, payload: CgF5 }, call: { method: Get } }
    expect: { payload: CgF6 }
  - name: grpc message unchanged
    hook: onGrpcMessage
    input: { message: { direction: client_to_server, payload: CgF5 } }
    expect: { payload: CgF5 }
  - name: grpc message dropped
    hook: onGrpcMessage
    input: { message: { payload: CgF5 }, call: { method: Drop } }
    expect: { dropped: true }
  - name: record tagged, emit seen
    hook: onCapture
    input: { record: { request: { url: /x } } }
    expect:
      record: { request: { url: /x }, tags: { seen: "yes" } }
      emitted: [{ saw: "00000000-0000-4000-8000-000000000001" }]
  - name: record dropped
    hook: onCapture
    input: { record: { request: { url: /drop } } }
    expect: { dropped: true, emitted: [{ saw: "00000000-0000-4000-8000-000000000001" }] }
`;
  const out = await results(packOf({ source: HOOKS_SOURCE, fixtures: { "all.yaml": fixtures } }));
  assert.equal(out.length, 14);
  for (const result of out) {
    assert.ok(result.passed, `${result.fixture.name}: ${result.error ?? result.diff ?? ""}`);
  }
  assert.equal(out[0]!.fixture.source, "fixtures/all.yaml#1");
});

test("a wrong expectation fails with a diff of expected (-) against actual (+)", async () => {
  const fixture = `
name: wrong
hook: onSseEvent
input: { event: { data: hi } }
expect: { event: { event: message, data: hi } }
`;
  const [result] = await results(packOf({ source: HOOKS_SOURCE, fixtures: { "one.yaml": fixture } }));
  assert.equal(result!.passed, false);
  assert.match(result!.diff!, /^- {5}"data": "hi",?$/m);
  assert.match(result!.diff!, /^\+ {5}"data": "HI",?$/m);
  assert.equal(result!.fixture.source, "fixtures/one.yaml");
});

test("a hook that throws shows as `error` in the output, so an unchanged expectation cannot hide it", async () => {
  const source = `export function onSseEvent() { throw new Error("kaboom"); }`;
  const unchanged = `
name: looks unchanged
hook: onSseEvent
input: { event: { data: hi } }
expect: { event: { event: message, data: hi } }
`;
  const admitted = `
name: failure expected
hook: onSseEvent
input: { event: { data: hi } }
expect: { event: { event: message, data: hi }, error: "error: Error: kaboom" }
`;
  const out = await results(packOf({ source, fixtures: { "a.yaml": unchanged, "b.yaml": admitted } }));
  assert.equal(out[0]!.passed, false);
  assert.match(out[0]!.diff!, /^\+ {3}"error": "error: Error: kaboom"/m);
  assert.equal(out[1]!.passed, true, out[1]!.diff);
});

test("a plugin that does not load fails its fixtures with the reason", async () => {
  const fixture = `
name: any
hook: onCapture
input: { record: {} }
expect: { record: {} }
`;
  const [result] = await results(packOf({ source: "export function onCapture( {", fixtures: { "a.yaml": fixture } }));
  assert.equal(result!.passed, false);
  assert.match(result!.error!, /^the plugin did not load: .*p\.js/);
});

test("fixture files are checked with file, line and field", () => {
  const cases: Array<[string, RegExp]> = [
    [
      "name: x\nhook: onNothing\ninput: {}\nexpect: {}\n",
      /^fixtures\/bad\.yaml:2:7: hook: hook must be one of onRequest/,
    ],
    [
      "name: x\nhook: onCapture\ninput: { request: {} }\nexpect: {}\n",
      /^fixtures\/bad\.yaml:3:8: input: onCapture needs input\.record/,
    ],
    [
      "name: x\nhook: onCapture\ninput: { record: {} }\nexpect: {}\nextra: 1\n",
      /fixtures\/bad\.yaml:5:8: extra: unknown key "extra"/,
    ],
    [
      "fixtures:\n  - name: x\n    plugin: q\n    hook: onCapture\n    input: { record: {} }\n    expect: {}\n",
      /fixtures\/bad\.yaml:3:13: fixtures\[0\]\.plugin: the pack has no plugin "q"/,
    ],
    ["name: x\nhook: [\n", /^fixtures\/bad\.yaml:\d+:\d+: invalid YAML/],
  ];
  for (const [text, pattern] of cases) {
    const contents = packOf({ source: HOOKS_SOURCE, fixtures: { "bad.yaml": text } });
    const manifest = parsePackManifest(new TextDecoder().decode(contents.get("tapline-pack.yaml")), "x");
    assert.throws(() => readFixtures(manifest, contents), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, pattern);
      return true;
    });
  }
});

test("inputs given as sequences run in order through one sandbox, so stateful plugins can be tested", async () => {
  const source = `
let seen = 0;
export function onSseEvent(event) { seen++; return event.data === "drop" ? null : { ...event, data: event.data + seen }; }
export function onWsMessage(msg) { seen++; return msg.data === "drop" ? null : msg.data + seen; }
export function onCapture(record) {
  seen++;
  if (record.request.url === "/drop") return null;
  if (record.request.url === "/last") emit({ seen });
  return { ...record, tags: { n: String(seen) } };
}
`;
  const fixtures = `
fixtures:
  - name: events
    hook: onSseEvent
    input: { events: [{ data: a }, { data: drop }, { data: c }] }
    expect: { events: [{ data: a1 }, null, { data: c3 }] }
  - name: messages
    hook: onWsMessage
    input: { messages: [{ data: x }, { data: drop }] }
    expect: { messages: [x1, null] }
  - name: records
    hook: onCapture
    input: { records: [{ request: { url: /a } }, { request: { url: /drop } }, { request: { url: /last } }] }
    expect:
      records: [{ request: { url: /a }, tags: { n: "1" } }, null, { request: { url: /last }, tags: { n: "3" } }]
      emitted: [{ seen: 3 }]
`;
  const out = await results(packOf({ source, fixtures: { "seq.yaml": fixtures } }));
  for (const result of out) assert.ok(result.passed, `${result.fixture.name}: ${result.error ?? result.diff ?? ""}`);
  const both = "name: x\nhook: onCapture\ninput: { record: {}, records: [{}] }\nexpect: {}\n";
  const contents = packOf({ source, fixtures: { "bad.yaml": both } });
  const manifest = parsePackManifest(new TextDecoder().decode(contents.get("tapline-pack.yaml")), "x");
  assert.throws(() => readFixtures(manifest, contents), /input\.records: give record or records, not both/);
});
