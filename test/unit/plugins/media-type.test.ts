import assert from "node:assert/strict";
import { test } from "node:test";
import { mediaTypeMatches } from "../../../src/plugins/media-type.ts";

test("mediaTypeMatches exact types, wildcards and structured suffixes", () => {
  const yes: Array<[string, string]> = [
    ["application/json", "application/json"],
    ["Application/JSON; charset=utf-8", "application/json"],
    ["text/plain", "text/*"],
    ["text/html;charset=UTF-8", "TEXT/*"],
    ["application/vnd.api+json", "application/*+json"],
    ["application/problem+json; charset=utf-8", "application/*+json"],
    ["image/png", "*/*"],
    [" text/csv ", "text/*"],
  ];
  const no: Array<[string, string]> = [
    ["application/json", "text/*"],
    ["application/jsonx", "application/json"],
    ["application/json", "application/*+json"],
    ["text/plain", "application/*"],
    ["textual/plain", "text/*"],
    ["application/vnd.api+xml", "application/*+json"],
    ["", "text/*"],
  ];
  for (const [type, pattern] of yes) assert.equal(mediaTypeMatches(type, pattern), true, `${type} ~ ${pattern}`);
  for (const [type, pattern] of no) assert.equal(mediaTypeMatches(type, pattern), false, `${type} !~ ${pattern}`);
});
