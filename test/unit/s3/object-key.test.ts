import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DEFAULT_KEY_TEMPLATE,
  FLAT_KEY_TEMPLATE,
  keyFieldsOf,
  keyTemplateProblem,
  renderKey,
} from "../../../src/s3/object-key.ts";

const context = { prefix: "tapline", instance: "host-a1b2c3", seq: 0 };

test("a rotated file's name gives route, date, hour and timestamp; the default key is Hive-style partitions", () => {
  const fields = keyFieldsOf("api-20261203T101502.123Z.jsonl", { ...context, suffix: ".gz" })!;
  assert.deepEqual(fields, {
    prefix: "tapline/",
    route: "api",
    date: "2026-12-03",
    hour: "10",
    instance: "host-a1b2c3",
    timestamp: "20261203T101502.123Z",
    seq: 0,
    ext: "jsonl.gz",
    file: "api-20261203T101502.123Z.jsonl.gz",
  });
  assert.equal(
    renderKey(DEFAULT_KEY_TEMPLATE, fields),
    "tapline/route=api/date=2026-12-03/hour=10/host-a1b2c3-20261203T101502.123Z-0.jsonl.gz",
  );
  assert.equal(renderKey(FLAT_KEY_TEMPLATE, fields), "tapline/api-20261203T101502.123Z.jsonl.gz");
});

test("a second rotation in the same millisecond, a route with dashes, a database and no prefix", () => {
  const fields = keyFieldsOf("my-api-20261203T230000.000Z_2.db", { ...context, prefix: "", seq: 3 })!;
  assert.equal(fields.route, "my-api");
  assert.equal(fields.timestamp, "20261203T230000.000Z_2");
  assert.equal(
    renderKey(DEFAULT_KEY_TEMPLATE, fields),
    "route=my-api/date=2026-12-03/hour=23/host-a1b2c3-20261203T230000.000Z_2-3.db",
  );
  assert.equal(keyFieldsOf("api.jsonl", context), undefined, "a live file is not a rotated one");
});

test("templates: unknown placeholders, stray braces and templates that could collide are refused", () => {
  assert.equal(keyTemplateProblem(DEFAULT_KEY_TEMPLATE), undefined);
  assert.equal(keyTemplateProblem(FLAT_KEY_TEMPLATE), undefined);
  assert.match(keyTemplateProblem("{prefix}{routes}/{seq}")!, /unknown placeholder \{routes\}/);
  assert.match(keyTemplateProblem("{prefix}{route}.jsonl")!, /\{seq\} or \{file\}/);
  assert.match(keyTemplateProblem("{prefix}{seq}}")!, /not part of a placeholder/);
  assert.match(keyTemplateProblem("/{file}")!, /must not start with "\/"/);
  assert.match(keyTemplateProblem(" ")!, /empty/);
});
