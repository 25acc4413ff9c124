import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { encodeBody, printableText, printableTextOfPrefix } from "../../../src/capture/encode-body.ts";
import { toBase64 } from "../../../src/shared/base64.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const fromBase64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

test("UTF-8 text with tabs, CR and LF stays text", () => {
  const body = "naïve café ✓ 😀\tcol\r\nnext line\n";
  assert.deepEqual(encodeBody(utf8(body), false), { body, base64: false });
});

test("text keeps a byte order mark so it re-encodes to the same bytes", () => {
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69]);
  const { body, base64 } = encodeBody(bytes, false);
  assert.equal(base64, false);
  assert.deepEqual(utf8(body), bytes);
});

test("control bytes make a body base64, and it round-trips exactly", () => {
  for (const control of [0x00, 0x01, 0x08, 0x0b, 0x0c, 0x1b, 0x1f, 0x7f]) {
    const bytes = new Uint8Array([0x61, control, 0x62]);
    const { body, base64 } = encodeBody(bytes, false);
    assert.equal(base64, true, `byte 0x${control.toString(16)}`);
    assert.deepEqual(fromBase64(body), bytes);
  }
});

test("invalid UTF-8 becomes base64 and round-trips exactly", () => {
  for (
    const bytes of [
      new Uint8Array([0xff, 0xfe, 0x41]),
      new Uint8Array([0x41, 0xc3, 0x28]), // bad continuation
      new Uint8Array([0xc0, 0xaf]), // overlong
      new Uint8Array([0xed, 0xa0, 0x80]), // surrogate
      new Uint8Array([0x61, 0xe2, 0x82]), // incomplete at the end, not truncated
    ]
  ) {
    const { body, base64 } = encodeBody(bytes, false);
    assert.equal(base64, true, String(bytes));
    assert.deepEqual(fromBase64(body), bytes);
  }
});

test("random binary round-trips through base64", () => {
  const bytes = new Uint8Array(randomBytes(4096));
  bytes[0] = 0; // ensure it is not text
  const { body, base64 } = encodeBody(bytes, false);
  assert.equal(base64, true);
  assert.deepEqual(fromBase64(body), bytes);
});

test("a truncated capture cut inside a multi-byte character is still text", () => {
  const cases: Array<[string, number]> = [["abcé", 1], ["abc€", 1], ["abc€", 2], ["abc😀", 1], ["abc😀", 2], [
    "abc😀",
    3,
  ]];
  for (const [whole, dropped] of cases) {
    const full = utf8(whole);
    const cut = full.subarray(0, full.length - dropped);
    assert.deepEqual(encodeBody(cut, true), { body: "abc", base64: false }, `${whole} minus ${dropped}`);
  }
});

test("a truncated capture that is invalid before its end is base64", () => {
  const bytes = new Uint8Array([0x61, 0xff, 0x62, 0xe2, 0x82]);
  const { body, base64 } = encodeBody(bytes, true);
  assert.equal(base64, true);
  assert.deepEqual(fromBase64(body), bytes);
});

test("a truncated capture with control bytes is base64", () => {
  const bytes = new Uint8Array([0x61, 0x00, 0xe2, 0x82]);
  assert.equal(encodeBody(bytes, true).base64, true);
});

test("a truncated capture ending in a stray continuation run is base64", () => {
  const bytes = new Uint8Array([0x61, 0x62, 0x80, 0x80, 0x80, 0x80]);
  assert.equal(printableTextOfPrefix(bytes, true), undefined);
  assert.equal(encodeBody(bytes, true).base64, true);
});

test("a whole truncated text capture is returned as is", () => {
  assert.equal(printableTextOfPrefix(utf8("plain"), true), "plain");
  assert.equal(printableTextOfPrefix(new Uint8Array([0x61, 0xe2]), false), undefined);
});

test("printableText rejects control bytes and accepts tab, CR, LF", () => {
  assert.equal(printableText(utf8("a\tb\r\nc")), "a\tb\r\nc");
  assert.equal(printableText(new Uint8Array([0x61, 0x07])), undefined);
  assert.equal(printableText(new Uint8Array(0)), "");
});

test("toBase64 matches Buffer's base64 for every padding length", () => {
  for (const length of [0, 1, 2, 3, 4, 5, 0x8000 - 1, 0x8000, 0x8000 + 1, 0x8000 * 3 + 2]) {
    const bytes = new Uint8Array(randomBytes(length));
    assert.equal(toBase64(bytes), Buffer.from(bytes).toString("base64"), `length ${length}`);
  }
});

test("toBase64 of 1 MiB equals Buffer's base64", () => {
  const bytes = new Uint8Array(randomBytes(1024 * 1024));
  assert.equal(toBase64(bytes), Buffer.from(bytes).toString("base64"));
});

test("toBase64 encodes only the view of a subarray", () => {
  const backing = new Uint8Array([1, 2, 3, 4, 5, 6]);
  const view = backing.subarray(2, 5);
  assert.equal(toBase64(view), Buffer.from([3, 4, 5]).toString("base64"));
});
