/**
 * onCaptureBatch: many records in one crossing, each with its own result,
 * host.record on all of them or one, lifted bodies, and the fail mode
 * applied to the whole batch when the call fails.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { HttpRecord } from "../../../src/shared/record.ts";
import { CAPTURE_BATCH, PluginChain } from "../../../src/plugins/chain.ts";
import type { PluginInstance } from "../../../src/plugins/instance.ts";
import type { HookName } from "../../../src/core/hooks.ts";
import { type InlineOptions, inlinePlugin, pluginSource } from "./inline-fixture.ts";

function record(n: number, body = `body ${n}`): HttpRecord {
  return {
    type: "http",
    v: 1,
    id: `11111111-2222-4333-8444-${String(n).padStart(12, "0")}`,
    route_name: "api",
    timestamp: "2026-12-03T03:40:00.000Z",
    duration_ms: 1.5,
    ttfb_request_ms: 0.1,
    ttfb_response_ms: 1,
    client_ip: "127.0.0.1:40000",
    upstream: "http://127.0.0.1:9000",
    request: {
      method: "GET",
      url: `/items/${n}`,
      headers: { Authorization: ["Bearer secret-token-value"] },
      body_size: 0,
    },
    response: { status: 200, status_text: "OK", headers: {}, body, body_size: body.length },
  };
}

async function chainOf(
  ...plugins: Array<[id: string, hooks: HookName[], body: string, options?: InlineOptions & { reads?: string[] }]>
): Promise<PluginChain> {
  const loaded: PluginInstance[] = [];
  for (const [id, hooks, body, options] of plugins) {
    loaded.push(await inlinePlugin(id, pluginSource({ name: id, hooks, reads: options?.reads }, body), options));
  }
  return new PluginChain("api", loaded);
}

function dispose(chain: PluginChain): void {
  for (const plugin of chain.plugins) plugin.dispose();
}

const urls = (outcomes: Array<{ record: unknown }>) =>
  outcomes.map(({ record }) => record === null ? null : (record as HttpRecord).request.url);

test("onCaptureBatch sees many records in one call; each result applies to its own record", async () => {
  const chain = await chainOf([
    "batch",
    ["onCaptureBatch"],
    `export function onCaptureBatch(records) {
      return records.map((r, i) => i === 1 ? null : i === 2 ? { ...r, tags: { size: String(records.length) } } : undefined);
    }`,
  ]);
  try {
    assert.equal(chain.uses("onCapture"), true, "a batch plugin counts as a capture hook for the writer");
    const out = await chain.runCaptures([record(0), record(1), record(2), record(3)]);
    assert.deepEqual(urls(out), ["/items/0", null, "/items/2", "/items/3"]);
    assert.equal(out[1]!.droppedBy, "batch");
    assert.deepEqual((out[2]!.record as HttpRecord).tags, { size: "4" });
    const metrics = chain.plugins[0]!.metrics;
    assert.equal(metrics.calls.onCaptureBatch, 1);
    assert.equal(metrics.calls.onCapture, undefined);
    assert.equal(metrics.recordsDropped, 1);
  } finally {
    dispose(chain);
  }
});

test("onCaptureBatch calls hold at most CAPTURE_BATCH records", async () => {
  const chain = await chainOf([
    "sizes",
    ["onCaptureBatch"],
    `export function onCaptureBatch(records) { return records.map((r) => ({ ...r, tags: { n: String(records.length) } })); }`,
  ]);
  try {
    const count = CAPTURE_BATCH * 2 + 5;
    const out = await chain.runCaptures(Array.from({ length: count }, (_, i) => record(i)));
    const sizes = out.map(({ record }) => (record as HttpRecord).tags?.["n"]);
    assert.equal(chain.plugins[0]!.metrics.calls.onCaptureBatch, 3);
    assert.deepEqual(sizes.slice(0, CAPTURE_BATCH), Array(CAPTURE_BATCH).fill(String(CAPTURE_BATCH)));
    assert.deepEqual(sizes.slice(-5), Array(5).fill("5"));
  } finally {
    dispose(chain);
  }
});

test("host.record.scrub in a batch scrubs every record, or one by its index", async () => {
  const scrubbers = `
    let all, body;
    export function setup() {
      all = host.record.scrubber({ headers: ["authorization"] });
      body = host.record.scrubber({ headers: [], custom: [{ patterns: host.patterns.compile(["body"]), replacement: "B" }] });
      return { reads: [] };
    }`;
  const chain = await chainOf([
    "scrub",
    ["onCaptureBatch"],
    `${scrubbers}
    export function onCaptureBatch(records) {
      if (!host.record.scrub(all)) throw new Error("nothing scrubbed");
      host.record.scrub(body, 1);
      let message = "";
      try { host.record.scrub(body, records.length); } catch (e) { message = e.message; }
      if (!/no record 3 in this call \\(it has 3\\)/.test(message)) throw new Error("bad index accepted: " + message);
    }`,
  ]);
  try {
    const out = await chain.runCaptures([record(0), record(1), record(2)]);
    assert.equal(chain.plugins[0]!.metrics.errors, 0);
    const records = out.map(({ record }) => record as HttpRecord);
    for (const r of records) assert.deepEqual(r.request.headers["Authorization"], ["[REDACTED]"]);
    assert.deepEqual(records.map((r) => r.response!.body), ["body 0", "B 1", "body 2"]);
  } finally {
    dispose(chain);
  }
});

test("long bodies cross a batch beside the JSON and come back changed at their own index", async () => {
  const long = (n: number) => `${n}:` + "x".repeat(2000);
  const chain = await chainOf([
    "bodies",
    ["onCaptureBatch"],
    `export function onCaptureBatch(records) {
      return records.map((r) => r.response.body.endsWith("x".repeat(2000))
        ? { response: { body: r.response.body.toUpperCase() } }
        : null);
    }`,
    { reads: ["response.body"] },
  ]);
  try {
    const out = await chain.runCaptures([record(0, long(0)), record(1, long(1))]);
    assert.equal(chain.plugins[0]!.metrics.errors, 0);
    const bodies = out.map(({ record }) => (record as HttpRecord).response!.body);
    assert.deepEqual(bodies, [long(0).toUpperCase(), long(1).toUpperCase()]);
    assert.equal((out[0]!.record as HttpRecord).request.url, "/items/0", "the part not read is kept");
  } finally {
    dispose(chain);
  }
});

test("a full batch of records with long request and response bodies crosses whole", async () => {
  const chain = await chainOf([
    "full",
    ["onCaptureBatch"],
    `export function onCaptureBatch(records) {
      return records.map((r) => ({ ...r, tags: { sizes: r.request.body.length + "/" + r.response.body.length } }));
    }`,
  ]);
  try {
    const records = Array.from({ length: CAPTURE_BATCH }, (_, i) => {
      const r = record(i, "r".repeat(1000 + i));
      r.request.body = "q".repeat(500 + i);
      return r;
    });
    const out = await chain.runCaptures(records);
    const metrics = chain.plugins[0]!.metrics;
    assert.equal(metrics.errors + metrics.outOfMemory, 0);
    assert.equal(metrics.calls.onCaptureBatch, 1);
    out.forEach(({ record }, i) => {
      assert.deepEqual((record as HttpRecord).tags, { sizes: `${500 + i}/${1000 + i}` });
      assert.equal((record as HttpRecord).response!.body, "r".repeat(1000 + i), "bodies are kept");
    });
  } finally {
    dispose(chain);
  }
});

test("a failed batch is tried again one record per call; the fail mode applies to those that fail alone", async () => {
  const bodies = {
    throws: `export function onCaptureBatch() { throw new Error("broken"); }`,
    short: `export function onCaptureBatch(records) { return []; }`,
    spins: `export function onCaptureBatch() { for (;;) {} }`,
  };
  for (const fail of ["open", "closed"] as const) {
    for (const [name, body] of Object.entries(bodies)) {
      const chain = await chainOf([name, ["onCaptureBatch"], body, { fail, limits: { captureMs: 50, failures: 100 } }]);
      try {
        const started = performance.now();
        const out = await chain.runCaptures([record(0), record(1), record(2)]);
        assert.ok(performance.now() - started < 2000, `${name}: the deadline holds`);
        const metrics = chain.plugins[0]!.metrics;
        assert.equal(metrics.calls.onCaptureBatch, 4, `${name}: the batch, then each record alone`);
        assert.equal(metrics.errors + metrics.timeouts, 4, name);
        if (fail === "closed") assert.deepEqual(urls(out), [null, null, null], `${name} closed`);
        else assert.deepEqual(urls(out), ["/items/0", "/items/1", "/items/2"], `${name} open`);
      } finally {
        dispose(chain);
      }
    }
  }
});

test("one record that breaks a batch plugin costs only itself", async () => {
  const chain = await chainOf([
    "picky",
    ["onCaptureBatch"],
    `export function onCaptureBatch(records) {
      if (records.some((r) => r.request.url === "/items/1")) throw new Error("cannot handle item 1");
      return records.map((r) => ({ ...r, tags: { seen: "1" } }));
    }`,
    { fail: "closed" },
  ]);
  try {
    const out = await chain.runCaptures([record(0), record(1), record(2)]);
    assert.deepEqual(urls(out), ["/items/0", null, "/items/2"]);
    assert.deepEqual((out[2]!.record as HttpRecord).tags, { seen: "1" });
    assert.equal(out[1]!.droppedBy, "picky");
    assert.equal(chain.plugins[0]!.metrics.errors, 2, "the batch and the record alone");
  } finally {
    dispose(chain);
  }
});

test("a batch plugin and a per-record plugin chain in order", async () => {
  const chain = await chainOf(
    [
      "first",
      ["onCaptureBatch"],
      `export function onCaptureBatch(rs) { return rs.map((r) => r.request.url === "/items/0" ? null : { ...r, tags: { first: "1" } }); }`,
    ],
    [
      "second",
      ["onCapture"],
      `export function onCapture(r) { if (r.tags.first !== "1") throw new Error("not chained"); return { ...r, tags: { ...r.tags, second: "1" } }; }`,
    ],
  );
  try {
    const out = await chain.runCaptures([record(0), record(1), record(2)]);
    assert.equal(chain.plugins[1]!.metrics.errors, 0);
    assert.equal(chain.plugins[1]!.metrics.calls.onCapture, 2, "a dropped record reaches no later plugin");
    assert.deepEqual(out.map(({ record }) => (record as HttpRecord | null)?.tags ?? null), [
      null,
      { first: "1", second: "1" },
      { first: "1", second: "1" },
    ]);
  } finally {
    dispose(chain);
  }
});
