import assert from "node:assert/strict";
import { test } from "node:test";
import { parseTokenFile } from "../../../src/admin/token-file.ts";
import { assertLocatedError } from "../config/located-error.ts";

const A = "0123456789abcdef0123456789abcdef";
const B = "fedcba9876543210fedcba9876543210";

test("a bare token is admin; admin: and read: set the scope; comments, blanks, CRLF and a BOM are skipped", () => {
  const text = `\uFEFF# tapline tokens\r\n${A}\r\n\r\n  read: ${B}\r\n# admin:${B}\r\n`;
  assert.deepEqual(parseTokenFile(text, "t.txt"), [
    { token: A, scope: "admin", source: "t.txt:2:1" },
    { token: B, scope: "read", source: "t.txt:4:9" },
  ]);
  assert.deepEqual(parseTokenFile(`admin:${A}`, "t.txt"), [{ token: A, scope: "admin", source: "t.txt:1:7" }]);
});

/** Assert a located error at line:column with `field`, whose message never holds `secret`. */
function assertFileError(text: string, where: [number, number, string], message: RegExp, secret: string): void {
  const [line, column, field] = where;
  assertLocatedError(() => parseTokenFile(text, "t.txt"), { file: "t.txt", line, column, field, message, secret });
}

test("errors name the file, line, column and field, and never the token", () => {
  assertFileError(`${A}\n  raed:${B}\n`, [2, 3, "scope"], /^must be admin or read$/, "raed");
  assertFileError(`${A}\nread:short-secret\n`, [2, 6, "token"], /^the token must be at least 16 characters/, "short");
  assertFileError(`${A}\nread: ${B} extra\n`, [2, 7, "token"], /^the token may contain only/, B);
  assertFileError(`${A}\n\nread:${A}\n`, [3, 6, "token"], /^the same token is on line 1$/, A);
  assertFileError("# only a comment\n\n", [1, 1, "token"], /^the file holds no token/, "#");
  assertFileError("", [1, 1, "token"], /^the file holds no token/, A);
});
