import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { CaptureRecord } from "../../../src/shared/record.ts";
import { HAR_END, harEntry, harStart } from "../../../src/traces/har.ts";
import { repoRoot } from "../core/fixture.ts";
import { BINARY_BODY, frameRecord, httpRecord } from "../sinks/sqlite-records.ts";

const ajv = new Ajv2020({ strict: true, allErrors: true });
const validate = ajv.compile(
  JSON.parse(readFileSync(join(repoRoot, "test/fixtures/har-1.2.schema.json"), "utf8")) as object,
);

function har(records: CaptureRecord[]): unknown {
  const entries = records.filter((r) => r.type === "http").map((r) =>
    harEntry(
      r as Extract<CaptureRecord, { type: "http" }>,
      records.filter((f) => f.type === "websocket_frame" && f.connection_id === r.id) as never,
    )
  );
  return JSON.parse(harStart("1.2.3") + entries.map((e) => JSON.stringify(e)).join(",") + HAR_END);
}

test("a HAR document of text, binary, failed and WebSocket exchanges is valid HAR 1.2", () => {
  const upgrade = httpRecord("/ws");
  upgrade.response!.status = 101;
  const records: CaptureRecord[] = [
    httpRecord("/text?q=a%20b&flag"),
    httpRecord("/png", { binary: true }),
    httpRecord("/refused", { noResponse: true }),
    upgrade,
    frameRecord(upgrade.id),
    frameRecord(upgrade.id, true),
  ];
  const document = har(records) as { log: { entries: Record<string, never>[]; creator: unknown } };
  assert.ok(validate(document), ajv.errorsText(validate.errors));
  assert.deepEqual(document.log.creator, { name: "tapline", version: "1.2.3" });
  const [text, png, refused, ws] = document.log.entries as unknown as ReturnType<typeof harEntry>[];
  assert.equal(text!.request.url, "http://example.test/text?q=a%20b&flag");
  assert.deepEqual(text!.request.queryString, [{ name: "q", value: "a b" }, { name: "flag", value: "" }]);
  assert.deepEqual(text!.request.postData, { mimeType: "application/json", text: '{"grüße":"κόσμε"}' });
  assert.deepEqual(text!.response.content, { size: 19, mimeType: "text/plain", text: "plain text\nline two" });
  assert.deepEqual(text!.request.headers.filter((h) => h.name === "Cookie"), [{ name: "Cookie", value: "a=1" }]);
  assert.equal(text!.response.redirectURL, "/next");
  assert.deepEqual(text!.timings, { send: 0.5, wait: 2.75, receive: 9.25 });
  // Binary bodies round-trip through base64.
  assert.equal(png!.response.content.encoding, "base64");
  assert.deepEqual(new Uint8Array(Buffer.from(png!.response.content.text!, "base64")), BINARY_BODY);
  assert.equal(refused!.response.status, 0);
  assert.equal(refused!._tapline.error, "upstream refused");
  assert.deepEqual(ws!._webSocketMessages!.map((m) => [m.type, m.opcode]), [["send", 1], ["receive", 2]]);
  assert.equal(ws!._webSocketMessages![0]!.data, "hello");
  assert.equal(ws!._tapline.id, upgrade.id);
});

test("a decoded response is given decoded, with its wire size as bodySize", () => {
  const record = httpRecord("/gz");
  record.response = {
    ...record.response!,
    body: "H4sIAAAA",
    body_base64: true,
    body_size: 30,
    body_decoded: "hello hello hello hello hello hello hello",
  };
  const entry = harEntry(record);
  assert.equal(entry.response.content.text, record.response.body_decoded);
  assert.equal(entry.response.content.encoding, undefined);
  assert.equal(entry.response.content.size, 41);
  assert.equal(entry.response.content.compression, 11);
  assert.equal(entry.response.bodySize, 30);
  assert.ok(validate(har([record])), ajv.errorsText(validate.errors));
});

test("a Host header that is not an authority falls back to the upstream's host", () => {
  const record = httpRecord("/x");
  record.request.headers = { Host: ["bad host/with space"] };
  assert.equal(harEntry(record).request.url, "http://127.0.0.1:9000/x");
});

test("the HAR request's httpVersion is the client's; records without one were HTTP/1.1", () => {
  const old = { ...httpRecord("/old"), http_version: "1.0" };
  const unknown = httpRecord("/unknown");
  delete unknown.http_version;
  assert.equal(harEntry(old).request.httpVersion, "HTTP/1.0");
  assert.equal(harEntry(unknown).request.httpVersion, "HTTP/1.1");
});
