import assert from "node:assert/strict";
import { test } from "node:test";
import { scrubCredentials, withoutCredentials } from "../../../src/shared/url-credentials.ts";

test("withoutCredentials shows userinfo as *** and drops a trailing slash", () => {
  assert.equal(withoutCredentials(new URL("http://u:s@api:8080/base/")), "http://***@api:8080/base");
  assert.equal(withoutCredentials(new URL("https://token@api/")), "https://***@api");
  assert.equal(withoutCredentials(new URL("http://127.0.0.1:3000/")), "http://127.0.0.1:3000");
});

test("scrubCredentials removes the username and password, raw and percent-decoded", () => {
  const url = new URL("http://ad%40min:p%2Fss@api/");
  assert.equal(
    scrubCredentials("GET http://ad%40min:p%2Fss@api/x as ad@min with p/ss", url),
    "GET http://***:***@api/x as *** with ***",
  );
  assert.equal(scrubCredentials("nothing secret", new URL("http://api/")), "nothing secret");
});
