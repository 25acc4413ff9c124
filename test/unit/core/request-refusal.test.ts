import assert from "node:assert/strict";
import { test } from "node:test";
import { refusalOf } from "../../../src/core/request-refusal.ts";

test("CONNECT is refused with 405 and an Allow header; two Host headers (or a merged one) with 400", () => {
  assert.equal(refusalOf("CONNECT", ["Host", "a:443"])?.status, 405);
  assert.match(String(refusalOf("CONNECT", [])?.headers?.["allow"]), /GET/);
  assert.equal(refusalOf("GET", ["Host", "a", "host", "b"])?.status, 400);
  assert.equal(refusalOf("GET", ["host", "a, b"])?.status, 400, "Bun joins repeated headers with a comma");
  assert.equal(refusalOf("GET", ["Host", "a", "X-Host", "b"]), undefined);
  assert.equal(refusalOf("POST", ["Host", "api.example:8080"]), undefined);
  assert.equal(refusalOf("GET", []), undefined, "no Host at all is HTTP/1.0's business, forwarded");
});
