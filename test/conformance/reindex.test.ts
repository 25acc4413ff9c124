/**
 * `tapline reindex DB FILE.jsonl...` per runtime: after a real capture run
 * (HTTP with text and binary bodies, a WebSocket exchange and an SSE stream,
 * JSONL and SQLite rotated by size), the database rebuilt from the JSONL
 * files holds the same rows, cell by cell, as the databases tapline wrote;
 * a corrupt database is replaced with --force; an existing one is refused
 * without it; a half-written last line is skipped with a warning.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { WebSocket } from "ws";
import { request } from "./harness/client.ts";
import { marker, proxySpec, removeDir, tempDir } from "./harness/fixture.ts";
import { countByType, parseJsonl, rotatedFiles } from "./harness/rotated.ts";
import { runtimes } from "./harness/runtimes.ts";
import {
  CAPTURE_TABLES,
  type CaptureTable,
  integrityOk,
  quotedRows,
  requireSqlite3,
  tableCounts,
} from "./harness/sqlite.ts";
import { runTapline, startTapline, type Tapline } from "./harness/tapline.ts";
import { startWsUpstream, type WsUpstream } from "./harness/ws-upstream.ts";
import { malformedCorpus } from "../fixtures/malformed-records.ts";

const T = { timeout: 30_000 };
const WAIT_MS = 5_000;

type Rows = Record<CaptureTable, Array<Record<string, unknown>>>;

/** Every row of every capture table across `dbs`, sorted by id. */
function allRows(dbs: string[]): Rows {
  const out = {} as Rows;
  for (const table of CAPTURE_TABLES) {
    out[table] = dbs.flatMap((db) => quotedRows(db, table)).sort((a, b) => String(a["id"]) < String(b["id"]) ? -1 : 1);
  }
  return out;
}

/** Fails naming the first table, row and column where `actual` differs from `expected`. */
function assertSameRows(actual: Rows, expected: Rows): void {
  for (const table of CAPTURE_TABLES) {
    const a = actual[table];
    const e = expected[table];
    assert.equal(a.length, e.length, `${table}: ${a.length} rows rebuilt, ${e.length} written by tapline`);
    for (const [i, row] of e.entries()) {
      for (const column of Object.keys(row)) {
        if (a[i]![column] !== row[column]) {
          assert.fail(
            `${table} row ${row["id"]}: column ${column} rebuilt as ${String(a[i]![column]).slice(0, 200)}, ` +
              `tapline wrote ${String(row[column]).slice(0, 200)}`,
          );
        }
      }
      assert.deepEqual(Object.keys(a[i]!), Object.keys(row), `${table}: columns`);
    }
  }
}

/** WebSocket echo exchange (text, binary), closed with 1000; bounded. */
async function wsExchange(url: string, messages: Array<string | Buffer>): Promise<void> {
  const ws = new WebSocket(url, { handshakeTimeout: WAIT_MS });
  await new Promise<void>((resolve, reject) => {
    let echoes = 0;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`WebSocket exchange on ${url} did not finish within ${WAIT_MS} ms`));
    }, WAIT_MS);
    ws.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on("open", () => {
      for (const m of messages) ws.send(m, { binary: typeof m !== "string" });
    });
    ws.on("message", () => {
      if (++echoes === messages.length) ws.close(1000, "done");
    });
    ws.on("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

for (const runtime of runtimes) {
  describe(`${runtime}: tapline reindex`, { timeout: 90_000 }, () => {
    let up: WsUpstream | undefined;
    let tap: Tapline | undefined;
    let dir = "";
    let jsonlFiles: string[] = [];
    let written: Rows;
    let lines = 0;

    before(async () => {
      requireSqlite3();
      up = await startWsUpstream();
      dir = tempDir();
      const live = join(dir, "rx.db");
      tap = await startTapline(runtime, [
        "--rotate-size",
        "12KB",
        "--flush-interval",
        "10ms",
        "--proxy",
        proxySpec({ name: "rx", upstream: up.url, log_jsonl: join(dir, "rx.jsonl"), log_sqlite: live }),
      ]);
      const m = marker("rx");
      for (let i = 0; i < 24; i++) {
        const body = i % 2 === 0 ? randomBytes(600) : `text body ${i} ${"é".repeat(200)}`;
        const res = await request(tap.url("rx", `/post-${m}?i=${i}`), { method: "POST", body, timeoutMs: WAIT_MS });
        assert.equal(res.status, 404);
      }
      await wsExchange(`ws://127.0.0.1:${tap.port("rx")}/ws/echo?m=${m}`, ["hi", randomBytes(300), "bye"]);
      const sse = await request(tap.url("rx", `/sse/split?m=${m}`), { timeoutMs: WAIT_MS });
      assert.equal(sse.status, 200);
      const { code } = await tap.stop();
      assert.equal(code, 0, tap.stderrTail());

      jsonlFiles = [...rotatedFiles(dir, "rx.jsonl").map((f) => f.path), join(dir, "rx.jsonl")];
      const dbs = [...rotatedFiles(dir, "rx.db").map((f) => f.path), live];
      assert.ok(jsonlFiles.length >= 2, `expected rotated JSONL files: ${jsonlFiles}`);
      const records = jsonlFiles.flatMap((f) => parseJsonl(f));
      lines = records.length;
      const counts = countByType(records);
      assert.ok(counts["websocket_frame"]! >= 6 && counts["sse_event"]! >= 1, JSON.stringify(counts));
      written = allRows(dbs);
      assert.equal(written.http_entries.length, counts["http"], "tapline wrote every http record to SQLite");
      for (const db of dbs) rmSync(db);
    });

    after(async () => {
      await tap?.kill();
      await up?.close();
      removeDir(dir);
    });

    test("rebuilds the deleted database from the JSONL files with the same rows", T, async () => {
      const db = join(dir, "rx.db");
      assert.equal(existsSync(db), false);
      const result = await runTapline(runtime, ["reindex", db, ...jsonlFiles]);
      assert.equal(result.code, 0, `reindex failed:\n${result.stderr}`);
      assert.equal(
        result.stdout.trim(),
        `Rebuilt ${db} from ${jsonlFiles.length} JSONL files: ${lines} records, 0 lines skipped`,
      );
      assert.equal(result.stderr.trim(), "", "no warnings");
      assert.ok(integrityOk(db), "the rebuilt database passes sqlite3's integrity_check");
      assertSameRows(allRows([db]), written);
    });

    test("refuses to replace an existing database without --force (exit 64)", T, async () => {
      const db = join(dir, "rx.db");
      const before = readFileSync(db);
      const result = await runTapline(runtime, ["reindex", db, ...jsonlFiles]);
      assert.equal(result.code, 64, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
      assert.match(result.stderr, /force/i);
      assert.ok(result.stderr.includes(db), `the message names ${db}: ${result.stderr}`);
      assert.deepEqual(readFileSync(db), before, "the database is untouched");
    });

    test("--force replaces a corrupt database", T, async () => {
      const db = join(dir, "corrupt.db");
      writeFileSync(db, Buffer.concat([Buffer.from("SQLite format 3\0"), randomBytes(5000)]));
      const result = await runTapline(runtime, ["reindex", "--force", db, ...jsonlFiles]);
      assert.equal(result.code, 0, `reindex --force failed:\n${result.stderr}`);
      assert.ok(integrityOk(db));
      assertSameRows(allRows([db]), written);
    });

    test("wrong-shaped records are skipped with file:line: why, and the database is still built", T, async () => {
      const corpus = malformedCorpus();
      const file = join(dir, "malformed.jsonl");
      writeFileSync(file, corpus.text);
      const db = join(dir, "malformed.db");
      const result = await runTapline(runtime, ["reindex", db, file]);
      assert.equal(result.code, 0, `reindex failed:\n${result.stderr}`);
      assert.equal(
        result.stdout.trim(),
        `Rebuilt ${db} from 1 JSONL file: ${corpus.good} records, ${corpus.bad} lines skipped`,
      );
      const warnings = result.stderr.trim().split("\n");
      assert.equal(warnings.length, corpus.bad, result.stderr);
      for (const [index, warning] of warnings.entries()) {
        assert.ok(warning.includes(`${file}:${index + 2}: `), warning);
      }
      assert.equal(tableCounts(db).http_entries, corpus.good);
      assert.ok(integrityOk(db));
    });

    test("a half-written last JSONL line is skipped with a warning, exit 0", T, async () => {
      const last = jsonlFiles.at(-1)!;
      const text = readFileSync(last, "utf8");
      const complete = text.split("\n").length - 1;
      assert.ok(complete > 0, `${last} has records`);
      const lastLine = text.split("\n")[complete - 1]!;
      // A crash in the middle of a write: half a record, no newline.
      appendFileSync(last, lastLine.slice(0, Math.floor(lastLine.length / 2)));
      const db = join(dir, "truncated.db");
      const result = await runTapline(runtime, ["reindex", db, ...jsonlFiles]);
      assert.equal(result.code, 0, `reindex failed:\n${result.stderr}`);
      assert.equal(
        result.stdout.trim(),
        `Rebuilt ${db} from ${jsonlFiles.length} JSONL files: ${lines} records, 1 line skipped`,
      );
      assert.match(result.stderr, /warning/i);
      assert.ok(
        result.stderr.includes(`${last}:${complete + 1}`),
        `the warning names ${last}:${complete + 1}: ${result.stderr}`,
      );
      assert.equal(result.stderr.trim().split("\n").length, 1, `one warning: ${result.stderr}`);
      assert.deepEqual(tableCounts(db), {
        http_entries: written.http_entries.length,
        websocket_frames: written.websocket_frames.length,
        sse_events: written.sse_events.length,
        custom_records: 0,
      });
    });
  });
}
