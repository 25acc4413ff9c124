/**
 * A node:test reporter that prints only the failed tests, after the run, each
 * with its file, its place among its parents and the error.
 *
 * Why: `npm test` writes TAP for ~1,700 tests and a CI log is often read from
 * its tail; a failure deep in the middle is easy to miss there. This reporter
 * runs beside TAP (see the `test` script) so the tail names what failed.
 *
 * @example
 * ```sh
 * node --test --test-reporter=tap --test-reporter-destination=stdout \
 *   --test-reporter=./dist/test/reporters/failures.js --test-reporter-destination=stderr x.test.js
 * ```
 */

interface TestEventData {
  name: string;
  nesting: number;
  file?: string;
  line?: number;
  details?: { error?: unknown };
}

interface TestEvent {
  type: string;
  data: TestEventData;
}

/** How many lines of one error are shown: enough for the message, diagnostics and the top frames. */
const MAX_ERROR_LINES = 40;

export default async function* failures(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const parents: string[] = [];
  const failed: string[] = [];
  const names: string[] = [];
  for await (const event of source) {
    if (event.type === "test:start") {
      parents.length = event.data.nesting;
      parents.push(event.data.name);
    } else if (event.type === "test:fail") {
      const error = event.data.details?.error;
      // A parent fails with "N subtests failed"; the subtest itself is listed already.
      if (failureType(error) === "subtestsFailed") continue;
      const path = [...parents.slice(0, event.data.nesting), event.data.name].join(" › ");
      const where = event.data.file ? `${event.data.file}:${event.data.line ?? "?"}` : "(no file)";
      failed.push(`✖ ${path}\n  at ${where}\n${indent(describe(error))}`);
      names.push(`# failed: ${path} (${where})`);
    }
  }
  if (failed.length === 0) return;
  // The errors first, then one line per failure: the last lines of the log name them all, however long the errors.
  yield `\n# failed tests: ${failed.length}\n${failed.join("\n\n")}\n\n${names.join("\n")}\n`;
}

function failureType(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const type = (error as { failureType?: unknown }).failureType;
  return typeof type === "string" ? type : undefined;
}

/** The test's own error: node:test wraps it as `cause` of an ERR_TEST_FAILURE. */
function describe(error: unknown): string {
  const cause = typeof error === "object" && error !== null && "cause" in error ? error.cause : error;
  const text = cause instanceof Error ? (cause.stack ?? `${cause.name}: ${cause.message}`) : String(cause);
  const lines = text.split("\n");
  return lines.length > MAX_ERROR_LINES
    ? [...lines.slice(0, MAX_ERROR_LINES), `… ${lines.length - MAX_ERROR_LINES} more lines`].join("\n")
    : text;
}

function indent(text: string): string {
  return text.split("\n").map((line) => `    ${line}`).join("\n");
}
