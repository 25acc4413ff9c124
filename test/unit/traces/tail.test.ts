import assert from "node:assert/strict";
import { test } from "node:test";
import type { HttpRecord } from "../../../src/shared/record.ts";
import { compileFilter } from "../../../src/traces/filter/filter.ts";
import { TAIL_BUFFER_RECORDS, TAIL_MAX_TEXT, TAIL_RING_RECORDS, TailHub } from "../../../src/traces/tail.ts";
import { httpRecord } from "../sinks/sqlite-records.ts";

const all = compileFilter("");

test("subscribers get the records their filter matches, together when they arrive close together", async () => {
  const hub = new TailHub();
  const errors = hub.subscribe(compileFilter("~u ^/err"));
  const everything = hub.subscribe(all);
  hub.publish([httpRecord("/ok"), httpRecord("/err/1")]);
  hub.publish([httpRecord("/err/2")]);
  const batch = await errors.next();
  assert.deepEqual(batch.records.map((r) => (r as HttpRecord).request.url), ["/err/1", "/err/2"]);
  assert.equal(batch.dropped, 0);
  assert.equal((await everything.next()).records.length, 3);
  assert.equal(hub.subscribers, 2);
  errors.close();
  everything.close();
  assert.equal(hub.subscribers, 0);
});

test("a subscriber that does not read loses records past its buffer, counted, and capture never waits", async () => {
  const hub = new TailHub();
  const slow = hub.subscribe(all);
  const records = Array.from({ length: TAIL_BUFFER_RECORDS + 25 }, (_, i) => httpRecord(`/${i}`));
  hub.publish(records);
  const batch = await slow.next();
  assert.equal(batch.records.length, TAIL_BUFFER_RECORDS);
  assert.equal(batch.dropped, 25);
  assert.equal(hub.dropped, 25);
  slow.close();
});

test("Last-Event-ID resumes from the ring; an id no longer in it is reported as not resumed", async () => {
  const hub = new TailHub();
  const records = Array.from({ length: TAIL_RING_RECORDS + 10 }, (_, i) => httpRecord(`/${i}`));
  hub.publish(records);
  const resumed = hub.subscribe(all, records.at(-3)!.id);
  assert.equal(resumed.resumed, true);
  assert.deepEqual((await resumed.next()).records.map((r) => r.id), records.slice(-2).map((r) => r.id));
  const late = hub.subscribe(all, records[0]!.id);
  assert.equal(late.resumed, false);
  resumed.close();
  late.close();
});

test("a subscription starts after the newest record, so resuming from its start misses nothing", async () => {
  const hub = new TailHub();
  assert.equal(hub.subscribe(all).after, undefined, "nothing written yet");
  const before = [httpRecord("/a"), httpRecord("/b")];
  hub.publish(before);
  const fresh = hub.subscribe(all);
  assert.equal(fresh.after, before[1]!.id);
  fresh.close();
  // Published while the client was away, before it had seen any record.
  const meanwhile = httpRecord("/c");
  hub.publish([meanwhile]);
  const again = hub.subscribe(all, fresh.after);
  assert.equal(again.resumed, true);
  assert.equal(again.after, fresh.after);
  assert.deepEqual((await again.next()).records.map((r) => r.id), [meanwhile.id]);
  const late = hub.subscribe(all, "gone");
  assert.equal(late.after, meanwhile.id, "not resumed: starts after the newest");
  again.close();
  late.close();
});

test("a backlog is the newest matching records, oldest first, when not resuming; after is the record before it", async () => {
  const hub = new TailHub();
  const records = ["/err/1", "/ok/1", "/err/2", "/ok/2", "/err/3"].map((url) => httpRecord(url));
  hub.publish(records);
  const urls = (batch: { records: unknown[] }) => batch.records.map((r) => (r as HttpRecord).request.url);

  const errors = hub.subscribe(compileFilter("~u ^/err"), undefined, 2);
  assert.equal(errors.resumed, false);
  assert.equal(errors.after, records[1]!.id, "the record just before /err/2");
  assert.deepEqual(urls(await errors.next()), ["/err/2", "/err/3"]);
  const later = httpRecord("/err/4");
  hub.publish([later]);
  assert.deepEqual(urls(await errors.next()), ["/err/4"], "then live records, once each");
  errors.close();

  const everything = hub.subscribe(all, undefined, TAIL_RING_RECORDS);
  assert.equal(everything.after, undefined, "the backlog starts at the ring's first record");
  assert.equal((await everything.next()).records.length, 6);
  everything.close();

  // Resuming replays from Last-Event-ID instead; an id no longer kept falls back to the backlog.
  const resumed = hub.subscribe(all, records[3]!.id, 100);
  assert.deepEqual(urls(await resumed.next()), ["/err/3", "/err/4"]);
  resumed.close();
  const gone = hub.subscribe(all, "gone", 1);
  assert.equal(gone.resumed, false);
  assert.deepEqual(urls(await gone.next()), ["/err/4"]);
  gone.close();
  const none = hub.subscribe(compileFilter("~u ^/nothing"), undefined, 5);
  assert.equal(none.after, later.id, "no match: starts after the newest, as without a backlog");
  none.close();
});

test("texts over the tail limit are left out (flagged), the record itself is not changed", async () => {
  const hub = new TailHub();
  const sub = hub.subscribe(all);
  const big = httpRecord("/big");
  big.response!.body = "x".repeat(TAIL_MAX_TEXT + 1);
  hub.publish([big]);
  const [sent] = (await sub.next()).records as HttpRecord[];
  assert.equal(sent!.response!.body, undefined);
  assert.equal(sent!.tags?.["tail_omitted"], true);
  assert.equal(big.response!.body!.length, TAIL_MAX_TEXT + 1);
  sub.close();
});

test("closeAll ends waiting subscribers with an empty batch", async () => {
  const hub = new TailHub();
  const sub = hub.subscribe(all);
  const waiting = sub.next();
  hub.closeAll();
  assert.deepEqual(await waiting, { records: [], dropped: 0 });
});
