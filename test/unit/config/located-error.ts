/** A check shared by the tests of located config errors (YAML, token files). */
import assert from "node:assert/strict";
import { ConfigError } from "../../../src/shared/errors.ts";

/** Where a ConfigError must point and what it must (and must not) say. */
export interface ExpectedLocation {
  file: string;
  line: number;
  column: number;
  field: string;
  /** Matched against the message after its `file:line:column: field: ` prefix. */
  message: RegExp;
  /** Text the message must not contain, such as a token. */
  secret?: string;
}

/** Assert that `run` throws a ConfigError located at `expected`, with the message prefix to match. */
export function assertLocatedError(run: () => unknown, expected: ExpectedLocation): void {
  const { file, line, column, field, message, secret } = expected;
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.deepEqual(error.location, { file, line, column, field });
    const prefix = `${file}:${line}:${column}: ${field}: `;
    assert.ok(error.message.startsWith(prefix), `${error.message} should start with ${prefix}`);
    assert.match(error.message.slice(prefix.length), message);
    if (secret !== undefined) {
      assert.ok(!error.message.includes(secret), `the message repeats a secret: ${error.message}`);
    }
    return true;
  });
}
