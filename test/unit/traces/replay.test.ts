import assert from "node:assert/strict";
import { test } from "node:test";
import { replayEvents, sseWire } from "../../../src/traces/replay.ts";
import { sseRecord } from "../sinks/sqlite-records.ts";

test("sseWire writes each field on its own line and one data line per line of data", () => {
  assert.equal(sseWire({ event: "message", data: "a" }), "data: a\n\n");
  assert.equal(
    sseWire({ event: "delta", data: "one\ntwo\r\nthree", id_field: "7", retry: 100 }),
    "event: delta\nid: 7\nretry: 100\ndata: one\ndata: two\ndata: three\n\n",
  );
  // A captured event name or id with a newline cannot forge another field.
  assert.equal(
    sseWire({ event: "x\ndata: forged", data: "d", id_field: "1\nevent: y" }),
    "event: x data: forged\nid: 1 event: y\ndata: d\n\n",
  );
});

test("replayEvents waits the captured gaps divided by the speed, in t_delta order", async () => {
  const events = [sseRecord("c", 3), sseRecord("c", 1), sseRecord("c", 2)]; // t_delta 30, 10, 20 ms
  const waits: number[] = [];
  const out: string[] = [];
  const sent = await replayEvents(events, { speed: 2, noDelay: false }, (text) => void out.push(text), {
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  assert.equal(sent, 3);
  assert.deepEqual(out.map((t) => t.match(/id: (\d)/)![1]), ["1", "2", "3"]);
  // Due times 5, 10, 15 ms against the start; the fake sleep takes no time, so each wait is (almost) the due time.
  assert.equal(waits.length, 3);
  waits.forEach((ms, i) => assert.ok(ms > (i + 1) * 5 - 2 && ms <= (i + 1) * 5, `wait ${i}: ${ms}`));
});

test("replayEvents with noDelay never waits, and stops when aborted", async () => {
  let waited = false;
  const out: string[] = [];
  let n = 0;
  const sent = await replayEvents(
    [sseRecord("c", 1), sseRecord("c", 2), sseRecord("c", 3)],
    { speed: 1, noDelay: true },
    (t) => void out.push(t),
    {
      sleep: () => {
        waited = true;
        return Promise.resolve();
      },
      aborted: () => ++n > 2,
    },
  );
  assert.equal(waited, false);
  assert.equal(sent, 2);
});
