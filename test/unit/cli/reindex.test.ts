import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { CaptureRecord } from "../../../src/shared/record.ts";
import { parseReindexArgs, progressBar, reindex, type ReindexSink } from "../../../src/cli/reindex.ts";
import { nodeFileSystem } from "../../../src/runtime/shared/fs.ts";
import { InsertError } from "../../../src/sinks/sqlite-inserter.ts";
import { MALFORMED_LINES, malformedCorpus } from "../../fixtures/malformed-records.ts";

const dir = mkdtempSync(join(tmpdir(), "tapline-reindex-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A sink that writes the records it got as JSON into its file on close, like a database would. */
function fileSink(path: string): ReindexSink & { records: CaptureRecord[] } {
  const records: CaptureRecord[] = [];
  return {
    records,
    open: () => Promise.resolve(),
    writeBatch: (batch) => {
      records.push(...batch);
      return Promise.resolve();
    },
    close: () => {
      writeFileSync(path, JSON.stringify(records));
      return Promise.resolve();
    },
  };
}

const frame = (n: number) =>
  JSON.stringify({
    type: "websocket_frame",
    v: 1,
    id: `f${n}`,
    route_name: "api",
    connection_id: "c",
    timestamp: "2026-12-03T10:00:00.000Z",
    direction: "client_to_server",
    opcode: 1,
    opcode_name: "text",
    payload: "hi",
    payload_size: 2,
  });

test("arguments: database first, then JSONL files; --force anywhere", () => {
  assert.deepEqual(parseReindexArgs(["a.db", "x.jsonl", "y.jsonl"]), {
    database: "a.db",
    files: ["x.jsonl", "y.jsonl"],
    force: false,
  });
  assert.equal(parseReindexArgs(["a.db", "--force", "x.jsonl"]).force, true);
  assert.throws(() => parseReindexArgs([]), { name: "UsageError", message: /Missing the database/ });
  assert.throws(() => parseReindexArgs(["a.db"]), { name: "UsageError", message: /Missing the JSONL files/ });
  assert.throws(() => parseReindexArgs(["a.db", "--fast", "x"]), {
    name: "UsageError",
    message: /Unknown flag --fast/,
  });
});

test("every record of every file is written in order; a torn last line is skipped with its place", async () => {
  const first = join(dir, "api-1.jsonl");
  const second = join(dir, "api.jsonl");
  writeFileSync(first, [frame(1), frame(2), ""].join("\n"));
  writeFileSync(second, [frame(3), frame(4), '{"type":"websocket_fr'].join("\n"));
  const database = join(dir, "api.db");
  let sink: ReturnType<typeof fileSink> | undefined;
  const skips: string[] = [];
  const summary = await reindex({ database, files: [first, second], force: false }, {
    fs: nodeFileSystem,
    createSink: (path) => (sink = fileSink(path)),
    onSkip: (s) => skips.push(`${s.file}:${s.line}: ${s.reason}`),
  });
  assert.equal(summary.records, 4);
  assert.deepEqual(sink!.records.map((r) => r.id), ["f1", "f2", "f3", "f4"]);
  assert.deepEqual(skips, [`${second}:3: partially written last line (the writer stopped mid-line)`]);
  assert.equal((JSON.parse(readFileSync(database, "utf8")) as unknown[]).length, 4, "built, then renamed into place");
});

test("an existing database is kept unless --force; a bad line mid-file is skipped, not fatal", async () => {
  const file = join(dir, "web.jsonl");
  writeFileSync(file, [frame(1), "not json", '{"type":"mystery"}', frame(2), ""].join("\n"));
  const database = join(dir, "web.db");
  writeFileSync(database, "old");
  const options = { fs: nodeFileSystem, createSink: fileSink };
  await assert.rejects(reindex({ database, files: [file], force: false }, options), {
    name: "UsageError",
    message: /already exists: pass --force/,
  });
  assert.equal(readFileSync(database, "utf8"), "old");
  const summary = await reindex({ database, files: [file], force: true }, options);
  assert.equal(summary.records, 2);
  assert.deepEqual(summary.skipped.map((s) => [s.line, s.reason.split(":")[0]]), [
    [2, "invalid JSON"],
    [3, 'unknown record type "mystery"'],
  ]);
});

test("a missing JSONL file is a usage error before anything is written", async () => {
  await assert.rejects(
    reindex({ database: join(dir, "none.db"), files: [join(dir, "missing.jsonl")], force: false }, {
      fs: nodeFileSystem,
      createSink: fileSink,
    }),
    { name: "UsageError", message: /missing\.jsonl" does not exist/ },
  );
});

test("the progress bar shows overall progress across files", () => {
  assert.equal(
    progressBar({ file: "/x/api.jsonl", fileIndex: 1, files: 2, fraction: 0.5, records: 12345 }, 8),
    "[######..] 2/2 api.jsonl 12,345 records",
  );
});

test("wrong-shaped records are skipped one by one with file:line and why; the database is still built", async () => {
  const file = join(dir, "malformed.jsonl");
  const corpus = malformedCorpus();
  writeFileSync(file, corpus.text);
  const warnings: string[] = [];
  const summary = await reindex({ database: join(dir, "malformed.db"), files: [file], force: true }, {
    fs: nodeFileSystem,
    createSink: fileSink,
    onSkip: (skipped) => warnings.push(`${skipped.file}:${skipped.line}: ${skipped.reason}`),
  });
  assert.equal(summary.records, corpus.good);
  assert.deepEqual(summary.skipped.map((s) => s.line), MALFORMED_LINES.map((_, i) => i + 2));
  assert.equal(warnings.length, corpus.bad);
  assert.ok(warnings.every((w) => w.startsWith(`${file}:`)), warnings.join("\n"));
});

test("records the database refuses are skipped with their lines, and the rest are kept", async () => {
  const file = join(dir, "refused.jsonl");
  writeFileSync(file, [frame(1), frame(2), frame(3), ""].join("\n"));
  const refusing = (path: string) => ({
    ...fileSink(path),
    writeBatch: () =>
      Promise.reject(new InsertError("Failed to insert 1 of 3 records", 2, new Error("constraint failed"))),
  });
  const summary = await reindex({ database: join(dir, "refused.db"), files: [file], force: true }, {
    fs: nodeFileSystem,
    createSink: refusing,
  });
  assert.equal(summary.records, 2);
  assert.deepEqual(summary.skipped.map((s) => [s.line, s.reason]), [
    [1, "1 of the records on lines 1-3 could not be inserted: constraint failed"],
  ]);
});
