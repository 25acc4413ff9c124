import assert from "node:assert/strict";
import { test } from "node:test";
import { mergeSummaries, newestFirst, type TraceSummary } from "../../../src/traces/trace-summary.ts";

const row = (id: string, time: string, url = `/${id}`): TraceSummary => ({ id, time, route: "api", type: "http", url });

test("newestFirst orders by time, newest first, and by the larger id on a tie", () => {
  const rows = [
    row("a", "2026-12-04T10:00:00.000Z"),
    row("c", "2026-12-04T10:00:01.000Z"),
    row("b", "2026-12-04T10:00:01.000Z"),
  ];
  assert.deepEqual(rows.sort(newestFirst).map((r) => r.id), ["c", "b", "a"]);
  assert.equal(newestFirst(row("a", "t"), row("a", "t")), 0);
});

test("mergeSummaries keeps live rows a later page does not have, each id once, newest first, bounded", () => {
  const page = [row("p2", "2026-12-04T10:00:02.000Z"), row("p1", "2026-12-04T10:00:01.000Z")];
  // The tail brought p3 (not in the page: it was read before p3 reached the files) and p2 (in both).
  const live = [row("p3", "2026-12-04T10:00:03.000Z"), row("p2", "2026-12-04T10:00:02.000Z", "/from-tail")];
  const merged = mergeSummaries(live, page, 10);
  assert.deepEqual(merged.map((r) => r.id), ["p3", "p2", "p1"]);
  assert.equal(merged[1]!.url, "/from-tail", "the first list's copy of a shared id is kept");
  assert.deepEqual(mergeSummaries(live, page, 2).map((r) => r.id), ["p3", "p2"]);
  assert.deepEqual(mergeSummaries([], page, 10), page);
});
