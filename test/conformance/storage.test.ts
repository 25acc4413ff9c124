/**
 * Capture storage through one tapline process per runtime: JSONL and SQLite
 * on one proxy holding the same records (HTTP, WebSocket, SSE), rotation by
 * size and by interval, and retention. Databases are read with the stock
 * `sqlite3` shell only. Every wait is bounded.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { WebSocket } from "ws";
import type { HttpRecord, SseEventRecord, WebSocketFrameRecord } from "../../src/shared/record.ts";
import { request } from "./harness/client.ts";
import { marker, proxySpec, removeDir, sleep, tempDir } from "./harness/fixture.ts";
import { assertAllValid, bodyBytes } from "./harness/records.ts";
import { countByType, parseJsonl, rotatedFiles } from "./harness/rotated.ts";
import { runtimes } from "./harness/runtimes.ts";
import { ids, integrityOk, query, requireSqlite3, TABLE_OF_TYPE, tableCounts } from "./harness/sqlite.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";
import { startUpstream, type Upstream } from "./harness/upstream.ts";
import { SSE_SPLIT_BYTES, SSE_SPLIT_EVENTS, startWsUpstream } from "./harness/ws-upstream.ts";

const T = { timeout: 40_000 };
const WAIT_MS = 5_000;

/** Stop tapline with SIGTERM and require a clean exit, which flushes every sink. */
async function stopClean(tap: Tapline): Promise<void> {
  const { code } = await tap.stop();
  assert.equal(code, 0, `tapline exited with code ${code}\n${tap.stderrTail()}`);
}

/** Open a `ws` client, send text and binary, wait for both echoes, close with 1000; bounded by WAIT_MS. */
async function wsExchange(url: string, text: string, binary: Buffer): Promise<void> {
  const ws = new WebSocket(url, { handshakeTimeout: WAIT_MS });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`WebSocket exchange on ${url} did not finish within ${WAIT_MS} ms`));
    }, WAIT_MS);
    const echoes: Buffer[] = [];
    ws.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on("open", () => {
      ws.send(text);
      ws.send(binary, { binary: true });
    });
    ws.on("message", (data) => {
      echoes.push(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
      if (echoes.length === 2) ws.close(1000, "done");
    });
    ws.on("close", () => {
      clearTimeout(timer);
      if (echoes.length !== 2) reject(new Error(`WebSocket closed after ${echoes.length} of 2 echoes`));
      else resolve();
    });
  });
}

/** The request index `i=<n>` this suite puts in every URL of a numbered run. */
function indexOf(url: string | undefined): number {
  const m = /[?&]i=(\d+)/.exec(url ?? "");
  if (!m) throw new Error(`No i=<n> in URL ${url}`);
  return Number(m[1]);
}

/** Indices of `files` must not interleave: each file holds requests after those of the files before it. */
function assertOrdered(what: string, groups: Array<{ name: string; indices: number[] }>): void {
  let last = -1;
  let lastName = "(none)";
  for (const { name, indices } of groups) {
    if (indices.length === 0) continue;
    const min = Math.min(...indices);
    assert.ok(min > last, `${what}: ${name} holds request ${min}, but ${lastName} (named earlier) holds ${last}`);
    last = Math.max(...indices);
    lastName = name;
  }
}

/** `n` sequential GETs through tapline, each `i=<index>` in the URL; every one must get `status`. */
async function sendNumbered(tap: Tapline, route: string, path: string, n: number, gapMs = 0): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await request(tap.url(route, `${path}${path.includes("?") ? "&" : "?"}i=${i}`), { timeoutMs: WAIT_MS });
    assert.equal(res.status, 200, `request ${i}: ${res.body.toString("utf8").slice(0, 200)}`);
    if (gapMs > 0) await sleep(gapMs);
  }
}

/**
 * Every runtime with the default engine (sql.js), and with the native one
 * where the runtime has node:sqlite (Deno and Bun here; Node 20 does not, and
 * sqlite-live.test.ts checks that it says so).
 */
const ENGINES = runtimes.flatMap((runtime) =>
  (runtime === "node" ? ["sqljs"] : ["sqljs", "native"]).map((engine) => ({ runtime, engine }))
);

for (const { runtime, engine } of ENGINES) {
  const engineArgs = ["--sqlite-engine", engine];
  describe(`${runtime}: capture storage (${engine})`, { timeout: 120_000 }, () => {
    test("JSONL and SQLite on one proxy hold the same HTTP, WebSocket and SSE records", T, async () => {
      requireSqlite3();
      const up = await startWsUpstream();
      const dir = tempDir();
      let tap: Tapline | undefined;
      try {
        mkdirSync(join(dir, "db"));
        const jsonl = join(dir, "store.jsonl");
        // Directory mode: `<dir>/<proxy name>.db`.
        const db = join(dir, "db", "store.db");
        tap = await startTapline(runtime, [
          ...engineArgs,
          "--proxy",
          proxySpec({ name: "store", upstream: up.url, log_jsonl: jsonl, log_sqlite: `${join(dir, "db")}/` }),
        ]);
        const m = marker("store");
        // Every byte value, then random bytes: not valid UTF-8, so JSONL must carry it as base64.
        const binary = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(3840)]);
        const frameBytes = Buffer.from([0, 255, 1, 254, 0x80, 0xc3, 0x28, 10, 13]);

        const plain = await request(tap.url("store", `/plain-${m}`), { timeoutMs: WAIT_MS });
        assert.equal(plain.status, 404);
        const posted = await request(tap.url("store", `/bin-${m}`), {
          method: "POST",
          body: binary,
          headers: { "content-type": "application/octet-stream" },
          timeoutMs: WAIT_MS,
        });
        assert.equal(posted.status, 404);
        await wsExchange(`ws://127.0.0.1:${tap.port("store")}/ws/echo?m=${m}`, `hello ${m}`, frameBytes);
        const sse = await request(tap.url("store", `/sse/split?m=${m}`), { timeoutMs: WAIT_MS });
        assert.equal(sse.status, 200);
        assert.deepEqual(sse.body, SSE_SPLIT_BYTES, "the SSE stream reached the client unaltered");
        await stopClean(tap);

        const records = parseJsonl(jsonl);
        const counts = countByType(records);
        assert.equal(counts["http"], 4, `http records: ${JSON.stringify(counts)}`);
        assert.ok((counts["websocket_frame"] ?? 0) >= 4, `websocket_frame records: ${JSON.stringify(counts)}`);
        assert.equal(counts["sse_event"], SSE_SPLIT_EVENTS.length, `sse_event records: ${JSON.stringify(counts)}`);
        assert.equal(assertAllValid([jsonl]), records.length);

        assert.ok(integrityOk(db), `${db} passes sqlite3's integrity_check`);
        const rows = tableCounts(db);
        assert.deepEqual(rows, {
          http_entries: counts["http"],
          websocket_frames: counts["websocket_frame"],
          sse_events: counts["sse_event"],
          custom_records: 0,
        }, "row counts per table equal the JSONL record counts per type");
        for (const [type, table] of Object.entries(TABLE_OF_TYPE)) {
          const expected = records.filter((r) => r.type === type).map((r) => r.id).sort();
          assert.deepEqual(ids(db, table), expected, `ids of ${table} equal those of the JSONL ${type} records`);
        }

        // The binary body: raw bytes in the BLOB, equal to what was sent and to the JSONL body.
        const httpRecords = records.filter((r): r is HttpRecord => r.type === "http");
        const binRecord = httpRecords.find((r) => r.request.url.includes(`bin-${m}`));
        assert.ok(binRecord, "a JSONL record for the binary POST");
        assert.deepEqual(bodyBytes(binRecord.request), binary, "JSONL holds the binary body");
        const [blob] = query(
          db,
          `SELECT id, hex(req_body) AS hex, typeof(req_body) AS kind, req_body_size AS size, req_method AS method ` +
            `FROM http_entries WHERE req_url LIKE '%bin-${m}%'`,
        );
        assert.ok(blob, "a row for the binary POST");
        assert.equal(blob["id"], binRecord.id);
        assert.equal(blob["kind"], "blob");
        assert.equal(blob["method"], "POST");
        assert.equal(blob["size"], binary.length);
        assert.equal(blob["hex"], binary.toString("hex").toUpperCase(), "the BLOB holds exactly the bytes sent");

        // WebSocket: the upgrade row is the frames' connection, the binary payload is raw bytes.
        const upgrade = httpRecords.find((r) => r.request.url.includes("/ws/echo"));
        assert.ok(upgrade, "an http record for the upgrade");
        const [upgradeRow] = query(db, `SELECT resp_status FROM http_entries WHERE id = '${upgrade.id}'`);
        assert.equal(upgradeRow?.["resp_status"], 101);
        const frames = query(
          db,
          "SELECT connection_id, direction, opcode_name, hex(payload) AS hex FROM websocket_frames",
        );
        assert.ok(frames.every((f) => f["connection_id"] === upgrade.id), JSON.stringify(frames));
        const binaryFrames = frames.filter((f) => f["opcode_name"] === "binary").map((f) =>
          `${f["direction"]} ${f["hex"]}`
        )
          .sort();
        const hex = frameBytes.toString("hex").toUpperCase();
        assert.deepEqual(binaryFrames, [`client_to_server ${hex}`, `server_to_client ${hex}`]);
        const jsonFrames = records.filter((r): r is WebSocketFrameRecord => r.type === "websocket_frame");
        assert.deepEqual(
          query(db, "SELECT opcode_name FROM websocket_frames ORDER BY id").map((f) => f["opcode_name"]),
          [...jsonFrames].sort((a, b) => (a.id < b.id ? -1 : 1)).map((f) => f.opcode_name),
        );

        // SSE: one row per event, same name and data as JSONL, all on the stream's http record.
        const sseHttp = httpRecords.find((r) => r.request.url.includes("/sse/split"));
        assert.ok(sseHttp, "an http record for the SSE stream");
        const jsonEvents = records.filter((r): r is SseEventRecord => r.type === "sse_event");
        const sqlEvents = query(db, "SELECT id, connection_id, event_type, data FROM sse_events");
        for (const event of jsonEvents) {
          const row = sqlEvents.find((r) => r["id"] === event.id);
          assert.ok(row, `row for sse_event ${event.id}`);
          assert.equal(row["connection_id"], sseHttp.id);
          assert.equal(row["event_type"], event.event);
          assert.equal(row["data"], event.data);
        }
        assert.deepEqual(
          [...jsonEvents].sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1)).map((e) => e.data),
          SSE_SPLIT_EVENTS.map((e) => e.data),
        );
      } finally {
        await tap?.kill();
        await up.close();
        removeDir(dir);
      }
    });

    test("rotation by size accounts for every record in JSONL and SQLite, without overwriting", T, async () => {
      requireSqlite3();
      const up = await startUpstream("size");
      const dir = tempDir();
      let tap: Tapline | undefined;
      const N = 200;
      const LIMIT = 16 * 1024;
      try {
        const jsonl = join(dir, "size.jsonl");
        const db = join(dir, "size.db");
        tap = await startTapline(runtime, [
          ...engineArgs,
          "--rotate-size",
          "16KB",
          // Every rotated file is counted below: none may be removed by retention.
          "--retention",
          "-1",
          // Small batches, so the size limit is crossed many times, several within one second.
          "--flush-interval",
          "10ms",
          "--proxy",
          proxySpec({ name: "size", upstream: up.url, log_jsonl: jsonl, log_sqlite: db }),
        ]);
        await sendNumbered(tap, "size", `/bytes/400?m=${marker("size")}`, N);
        await stopClean(tap);

        // JSONL
        const rotated = rotatedFiles(dir, "size.jsonl");
        const rotatedLogs = tap.logs.filter((l) => l.msg === "rotated" && String(l["file"]).endsWith(".jsonl"));
        assert.ok(rotated.length >= 3, `expected several rotated JSONL files, found ${rotated.map((f) => f.name)}`);
        assert.equal(rotated.length, rotatedLogs.length, "every logged rotation left its own file");
        assert.equal(new Set(rotated.map((f) => `${f.stamp}/${f.counter}`)).size, rotated.length);
        // Batches are split at the limit: a rotated file is full to within one record (~1 KB here), never over.
        for (const f of rotated) {
          const size = statSync(f.path).size;
          assert.ok(size <= LIMIT && size > LIMIT - 2048, `${f.name} rotated at ${size} bytes, limit ${LIMIT}`);
        }
        assert.ok(statSync(jsonl).size <= LIMIT, "the live file is within the limit after the last write");
        const bySecond = new Set(rotated.map((f) => f.stamp.slice(0, 15)));
        assert.ok(
          bySecond.size < rotated.length,
          `expected some rotations within the same second: ${rotated.map((f) => f.name).join(", ")}`,
        );
        const files = [...rotated.map((f) => f.path), jsonl];
        assertAllValid(files);
        const groups = files.map((path) => ({ path, records: parseJsonl(path) }));
        const all = groups.flatMap((g) => g.records) as HttpRecord[];
        assert.equal(all.length, N, `records across ${files.length} JSONL files`);
        assert.equal(new Set(all.map((r) => r.id)).size, N, "ids are unique across files");
        assert.deepEqual(all.map((r) => indexOf(r.request.url)).sort((a, b) => a - b), [...Array(N).keys()]);
        assertOrdered(
          "JSONL",
          groups.map((g) => ({ name: g.path, indices: g.records.map((r) => indexOf((r as HttpRecord).request.url)) })),
        );
        for (const [i, f] of rotated.entries()) {
          const latest = Math.max(...groups[i]!.records.map((r) => Date.parse(r.timestamp)));
          assert.ok(
            f.time >= latest,
            `${f.name} is stamped before its last record (${new Date(latest).toISOString()})`,
          );
        }

        // SQLite: segments rotate by database growth; every row is in exactly one segment.
        const dbRotated = rotatedFiles(dir, "size.db");
        assert.ok(dbRotated.length >= 2, `expected rotated databases, found ${dbRotated.map((f) => f.name)}`);
        const dbs = [...dbRotated.map((f) => f.path), db];
        const dbGroups = dbs.map((path) => {
          assert.ok(integrityOk(path), `${path} passes integrity_check`);
          const urls = query(path, "SELECT id, req_url FROM http_entries");
          assert.equal(tableCounts(path).websocket_frames, 0);
          return {
            name: path,
            ids: urls.map((r) => String(r["id"])),
            indices: urls.map((r) => indexOf(String(r["req_url"]))),
          };
        });
        const dbIds = dbGroups.flatMap((g) => g.ids);
        assert.equal(dbIds.length, N, `rows across ${dbs.length} databases: ${dbGroups.map((g) => g.ids.length)}`);
        assert.deepEqual(dbIds.sort(), all.map((r) => r.id).sort(), "the databases hold the JSONL records");
        assertOrdered("SQLite", dbGroups);
      } finally {
        await tap?.kill();
        await up.close();
        removeDir(dir);
      }
    });

    describe("rotation by interval (--rotate-interval 1s) with --retention 2", () => {
      const N = 36;
      let up: Upstream | undefined;
      let dir = "";
      let tap: Tapline | undefined;
      before(async () => {
        requireSqlite3();
        up = await startUpstream("interval");
        dir = tempDir();
        tap = await startTapline(runtime, [
          ...engineArgs,
          "--rotate-interval",
          "1s",
          "--retention",
          "2",
          "--flush-interval",
          "10ms",
          "--proxy",
          proxySpec({ name: "iv", upstream: up.url, log_jsonl: join(dir, "iv.jsonl"), log_sqlite: join(dir, "iv.db") }),
        ]);
        // About 3.6 s of traffic: three or more interval rotations of each file.
        await sendNumbered(tap, "iv", `/bytes/100?m=${marker("iv")}`, N, 100);
        await stopClean(tap);
      });
      after(async () => {
        await tap?.kill();
        await up?.close();
        removeDir(dir);
      });

      for (const [live, ext] of [["iv.jsonl", ".jsonl"], ["iv.db", ".db"]] as const) {
        test(`${live}: rotated every second, the newest two rotated files kept`, T, () => {
          const logged: string[] = tap!.logs.filter((l) => l.msg === "rotated" && String(l["file"]).endsWith(ext))
            .map((l) => String(l["file"]).slice(dir.length + 1));
          const kept = rotatedFiles(dir, live);
          assert.ok(kept.length <= 2, `${live}: rotated files left: ${kept.map((f) => f.name)} (logged ${logged})`);
          assert.ok(
            logged.length >= 3,
            `expected at least 3 rotations of ${live} in ${
              N * 100
            } ms of traffic with --rotate-interval 1s, logged: ${logged}`,
          );
          assert.equal(kept.length, 2, `${live}: rotated files left: ${kept.map((f) => f.name)} (logged ${logged})`);
          // The ones kept are the newest rotations.
          assert.deepEqual(kept.map((f) => f.name), [...logged].sort().slice(-2));
          assert.ok(kept[1]!.time - kept[0]!.time >= 500, `interval rotations ${kept[0]!.name}, ${kept[1]!.name}`);
          const indices = (path: string): number[] =>
            ext === ".jsonl"
              ? parseJsonl(path).map((r) => indexOf((r as HttpRecord).request.url))
              : query(path, "SELECT req_url FROM http_entries").map((r) => indexOf(String(r["req_url"])));
          const groups = [...kept.map((f) => f.path), join(dir, live)].map((path) => ({
            name: path,
            indices: indices(path),
          }));
          assertOrdered(live, groups);
          // What is left is the newest contiguous run of requests, ending with the last one.
          const left = groups.flatMap((g) => g.indices).sort((a, b) => a - b);
          assert.ok(left.length > 0 && left.length < N, `${live}: ${left.length} of ${N} records left`);
          assert.deepEqual(left, Array.from({ length: left.length }, (_, i) => N - left.length + i));
        });
      }
    });
  });
}
