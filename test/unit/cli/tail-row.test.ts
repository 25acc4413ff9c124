import assert from "node:assert/strict";
import { test } from "node:test";
import { tailRow } from "../../../src/cli/tail-command.ts";
import { frameRecord, httpRecord, sseRecord } from "../sinks/sqlite-records.ts";

test("a tail row shows an exchange's columns, colors its status on request, and escapes captured text", () => {
  const record = httpRecord("/api/x\x1b[2J?q=1");
  record.timestamp = "2026-12-03T10:00:01.234Z";
  const plain = tailRow(record, false);
  assert.match(
    plain,
    /^10:00:01\.234 api {8}127\.0\.0\.1:50000 {7}POST {4}example\.test {9}\/api\/x\\x1b\[2J\?q=1 +200 {4}12\.5ms {5}19 B$/,
  );
  assert.ok(!plain.includes("\x1b"), "no raw escape from captured data");
  const colored = tailRow(record, true);
  assert.ok(colored.includes("\x1b[32m200"), colored);
  const failed = httpRecord("/down", { noResponse: true });
  assert.match(tailRow(failed, false), / ERR /);
  assert.match(tailRow(frameRecord("c"), false), /WS > +text/);
  assert.match(tailRow(sseRecord("c", 2), false), /SSE +tick +\+20ms/);
  // A long path is cut with an ellipsis rather than pushing the columns.
  assert.match(tailRow(httpRecord("/" + "a".repeat(100)), false), /a…/);
});
