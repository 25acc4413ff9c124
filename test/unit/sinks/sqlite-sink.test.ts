import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, test } from "node:test";
import type { Database } from "sql.js";
import { nodeFileSystem } from "../../../src/runtime/shared/fs.ts";
import { SQLITE_SCHEMA_VERSION } from "../../../src/sinks/sqlite-schema.ts";
import type { CustomRecord, GrpcMessageRecord } from "../../../src/shared/record.ts";
import { loadSqlJs } from "../../../src/sinks/sql-js.ts";
import { CUSTOM_COLUMNS, HTTP_COLUMNS } from "../../../src/sinks/sqlite-columns.ts";
import { SqliteSink } from "../../../src/sinks/sqlite-sink.ts";
import { repoRoot } from "../core/fixture.ts";
import { BINARY_BODY, closeFrameRecord, frameRecord, httpRecord, sseRecord } from "./sqlite-records.ts";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tapline-sqlite-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Opens a copy of the file with sql.js, runs `use`, closes it. */
async function withFile<T>(path: string, use: (db: Database) => T): Promise<T> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(await nodeFileSystem.readFile(path));
  try {
    return use(db);
  } finally {
    db.close();
  }
}

function scalar(db: Database, sql: string): unknown {
  return db.exec(sql)[0]?.values[0]?.[0];
}

interface Counts {
  http_entries: number;
  websocket_frames: number;
  sse_events: number;
  custom_records: number;
}

async function counts(path: string): Promise<Counts> {
  return await withFile(path, (db) => {
    const count = (table: string) => Number(scalar(db, `SELECT count(*) FROM ${table}`));
    return {
      http_entries: count("http_entries"),
      websocket_frames: count("websocket_frames"),
      sse_events: count("sse_events"),
      custom_records: count("custom_records"),
    };
  });
}

/** Runs the stock sqlite3 shell; fails clearly when it is not installed. */
function sqlite3(file: string, sql: string): string {
  const result = spawnSync("sqlite3", [file, sql], { encoding: "utf8" });
  if (result.error && (result.error as NodeJS.ErrnoException).code === "ENOENT") {
    assert.fail(
      "The sqlite3 shell is not installed (apt-get install sqlite3): it checks that the file opens in SQLite",
    );
  }
  assert.equal(result.status, 0, `sqlite3 ${file} failed: ${result.stderr}`);
  return result.stdout.trim();
}

test("each record type lands as one row in its table, in one file the sqlite3 shell reads", async () => {
  const path = join(dir, "counts", "api.db");
  const sink = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 0 });
  assert.equal(sink.name, `sqlite ${path}`);
  await sink.open();
  assert.ok(existsSync(path), "open creates the file");
  const upgrade = httpRecord("/ws");
  await sink.writeBatch([upgrade, httpRecord("/a", { binary: true }), httpRecord("/b", { noResponse: true })]);
  await sink.writeBatch([frameRecord(upgrade.id), frameRecord(upgrade.id, true), closeFrameRecord(upgrade.id)]);
  await sink.writeBatch(Array.from({ length: 4 }, (_, i) => sseRecord(upgrade.id, i)));
  const message: GrpcMessageRecord = {
    type: "grpc_message",
    v: 1,
    id: crypto.randomUUID(),
    route_name: "api",
    connection_id: upgrade.id,
    timestamp: new Date().toISOString(),
    direction: "server_to_client",
    seq: 1,
    t_delta_ms: 2.5,
    compressed: true,
    payload_size: 3,
    payload: "AAEC",
    payload_base64: true,
  };
  await sink.writeBatch([message]);
  await sink.writeBatch([]);
  await sink.close();
  assert.deepEqual(await counts(path), { http_entries: 3, websocket_frames: 3, sse_events: 4, custom_records: 0 });
  assert.equal(sqlite3(path, "select count(*) from http_entries"), "3");
  assert.equal(sqlite3(path, "select count(*) from websocket_frames"), "3");
  assert.equal(sqlite3(path, "select count(*) from sse_events"), "4");
  assert.equal(
    sqlite3(path, "select direction, seq, compressed, hex(payload), payload_size from grpc_messages"),
    "server_to_client|1|1|000102|3",
  );
  assert.equal(sqlite3(path, "pragma integrity_check"), "ok");
  assert.equal(
    sqlite3(path, "select count(*) from sqlite_master where type = 'index' and tbl_name = 'http_entries'"),
    // nine named indexes plus the primary key's
    "10",
  );
});

test("bodies and payloads are BLOBs of the raw bytes; headers are extracted into columns", async () => {
  const path = join(dir, "columns.db");
  const sink = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 0 });
  const text = httpRecord("/text");
  const binary = httpRecord("/binary", { binary: true });
  const failed = httpRecord("/failed", { noResponse: true });
  const frame = frameRecord(text.id, true);
  const close = closeFrameRecord(text.id);
  const event = sseRecord(text.id, 7);
  await sink.writeBatch([text, binary, failed, frame, close, event]);
  await sink.close();
  await withFile(path, (db) => {
    const row = (sql: string) => {
      const result = db.exec(sql)[0];
      assert.ok(result, `no row for ${sql}`);
      return Object.fromEntries(result.columns.map((c, i) => [c, result.values[0]![i]]));
    };
    const b = row(`SELECT * FROM http_entries WHERE id = '${binary.id}'`);
    assert.ok(b.resp_body instanceof Uint8Array, "the binary body is a BLOB");
    assert.deepEqual(b.resp_body, BINARY_BODY);
    assert.equal(b.resp_body_size, BINARY_BODY.length);
    assert.equal(b.resp_body_truncated, 0);
    assert.equal(b.resp_content_type, "image/png");
    const t = row(`SELECT * FROM http_entries WHERE id = '${text.id}'`);
    assert.deepEqual(t.req_body, new TextEncoder().encode('{"grüße":"κόσμε"}'));
    assert.deepEqual(t.resp_body, new TextEncoder().encode("plain text\nline two"));
    assert.deepEqual(
      [
        t.req_method,
        t.req_url,
        t.req_host,
        t.req_content_type,
        t.req_content_length,
        t.req_authorization,
        t.req_cookie,
        t.req_user_agent,
        t.req_accept,
        t.req_referer,
        t.req_origin,
        t.req_x_forwarded_for,
        t.req_x_request_id,
      ],
      [
        "POST",
        "/text",
        "example.test",
        "application/json",
        21,
        "Bearer abc",
        "a=1",
        "test-agent/1.0",
        "*/*",
        "http://example.test/",
        "http://example.test",
        "10.0.0.1",
        "corr-1",
      ],
    );
    assert.deepEqual(
      [
        t.resp_status,
        t.resp_status_text,
        t.resp_content_type,
        t.resp_content_length,
        t.resp_content_encoding,
        t.resp_set_cookie,
        t.resp_location,
        t.resp_cache_control,
        t.resp_etag,
        t.resp_last_modified,
        t.resp_www_authenticate,
        t.resp_x_request_id,
      ],
      [
        200,
        "OK",
        "text/plain",
        264,
        "identity",
        "s=1; Path=/",
        "/next",
        "no-store",
        '"v1"',
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "Basic",
        "corr-1",
      ],
    );
    assert.deepEqual(JSON.parse(String(t.req_headers)), text.request.headers);
    assert.deepEqual(JSON.parse(String(t.resp_headers)), text.response!.headers);
    assert.deepEqual(
      [t.route_name, t.timestamp, t.duration_ms, t.ttfb_request_ms, t.ttfb_response_ms, t.client_ip, t.upstream],
      ["api", text.timestamp, 12.5, 0.5, 3.25, "127.0.0.1:50000", "http://127.0.0.1:9000"],
    );
    assert.deepEqual([t.correlation_id, t.v, t.disconnected, t.sse_events], ["corr-1", 1, 0, null]);
    assert.deepEqual(JSON.parse(String(t.tags)), { team: "blue" });
    const f = row(`SELECT * FROM http_entries WHERE id = '${failed.id}'`);
    assert.deepEqual([f.error, f.resp_status, f.resp_body, f.resp_headers], ["upstream refused", null, null, null]);

    const w = row(`SELECT * FROM websocket_frames WHERE id = '${frame.id}'`);
    assert.deepEqual(w.payload, BINARY_BODY);
    assert.deepEqual(
      [w.connection_id, w.direction, w.opcode, w.opcode_name, w.payload_size, w.payload_truncated, w.masked],
      [text.id, "server_to_client", 2, "binary", BINARY_BODY.length, 0, 0],
    );
    const c = row(`SELECT * FROM websocket_frames WHERE id = '${close.id}'`);
    assert.deepEqual([c.opcode_name, c.close_code, c.close_reason, c.payload], ["close", 1000, "bye", null]);

    const e = row(`SELECT * FROM sse_events WHERE id = '${event.id}'`);
    assert.deepEqual(
      [e.connection_id, e.event_type, e.data, e.event_id, e.retry, e.t_delta_ms, e.data_truncated],
      [text.id, "tick", '{"n":7}', "7", 1500, 70, 0],
    );
  });
  // The same bytes as the stock shell sees them.
  assert.equal(
    sqlite3(path, `select hex(resp_body) from http_entries where id = '${binary.id}'`),
    Buffer.from(BINARY_BODY).toString("hex").toUpperCase(),
  );
});

test("decoded bodies are text, or BLOBs when the record carries them as base64", async () => {
  const path = join(dir, "decoded.db");
  const sink = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 0 });
  const record = httpRecord("/gzip");
  record.response!.body_decoded = "decoded text";
  record.response!.body_decoded_truncated = true;
  record.request.body_decoded = btoa("\x00\x01\x02");
  record.request.body_decoded_base64 = true;
  await sink.writeBatch([record]);
  await sink.close();
  await withFile(path, (db) => {
    const [reqDecoded, respDecoded, respCut, reqCut] = db.exec(
      "SELECT req_body_decoded, resp_body_decoded, resp_body_decoded_truncated, req_body_decoded_truncated FROM http_entries",
    )[0]!.values[0]!;
    assert.deepEqual(reqDecoded, new Uint8Array([0, 1, 2]));
    assert.equal(respDecoded, "decoded text");
    assert.equal(respCut, 1);
    assert.equal(reqCut, 0);
  });
});

test("http_version (also as req_proto) and response trailers have columns", async () => {
  const path = join(dir, "version.db");
  const sink = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 0 });
  const current = { ...httpRecord("/v11"), http_version: "1.1" };
  current.response!.trailers = { "X-Checksum": ["abc"] };
  const old = { ...httpRecord("/v10"), http_version: "1.0" };
  const before = httpRecord("/unknown");
  delete before.http_version;
  await sink.writeBatch([current, old, before]);
  await sink.close();
  await withFile(path, (db) => {
    const rows = db.exec("SELECT req_url, http_version, req_proto FROM http_entries ORDER BY req_url")[0]!.values;
    assert.deepEqual(rows, [["/unknown", null, null], ["/v10", "1.0", "HTTP/1.0"], ["/v11", "1.1", "HTTP/1.1"]]);
    const trailers = db.exec("SELECT req_url, resp_trailers FROM http_entries ORDER BY req_url")[0]!.values;
    assert.deepEqual(trailers, [["/unknown", null], ["/v10", null], ["/v11", '{"X-Checksum":["abc"]}']]);
  });
});

test("records of other types go to custom_records without loss", async () => {
  const path = join(dir, "custom.db");
  const sink = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 0 });
  const custom = {
    type: "custom",
    v: 1,
    id: "c-1",
    route_name: "api",
    timestamp: "2025-01-01T00:00:00.000Z",
    plugin: "audit",
    data: { user: "ann", n: 3 },
  };
  const unknown = { type: "future_kind", v: 9, id: "f-1", extra: [1, 2] };
  // deno-lint-ignore no-explicit-any -- records of types record.ts does not know yet
  await sink.writeBatch([custom as any, unknown as any]);
  await sink.close();
  await withFile(path, (db) => {
    const rows = db.exec("SELECT id, route_name, type, plugin, data, v FROM custom_records ORDER BY id")[0]!.values;
    assert.deepEqual(rows[0], ["c-1", "api", "custom", "audit", '{"user":"ann","n":3}', 1]);
    assert.deepEqual(rows[1]!.slice(0, 4), ["f-1", null, "future_kind", null]);
    assert.deepEqual(JSON.parse(String(rows[1]![4])), unknown);
  });
});

test("a plugin's custom record lands in custom_records with plugin, data as JSON and connection_id", async () => {
  const path = join(dir, "custom-plugin.db");
  const sink = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 0 });
  const record: CustomRecord = {
    type: "custom",
    v: 1,
    id: "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c",
    route_name: "llm",
    timestamp: "2025-01-31T12:00:03.250Z",
    plugin: "usage",
    connection_id: "0b6f1a52-1c1e-4a8e-9d0e-3c1d7b2f9a10",
    data: { model: "m", tokens: [1, 2], text: 'é "q"' },
  };
  const bare: CustomRecord = { ...record, id: "4f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c", data: "just text" };
  delete bare.connection_id;
  await sink.writeBatch([record, bare]);
  await sink.close();
  const rows = JSON.parse(
    sqlite3(
      path,
      "select json_group_array(json_array(id, route_name, timestamp, type, plugin, data, v, tags, connection_id)) from (select * from custom_records order by id)",
    ),
  ) as unknown[][];
  assert.deepEqual(rows, [
    [record.id, "llm", record.timestamp, "custom", "usage", JSON.stringify(record.data), 1, null, record.connection_id],
    [bare.id, "llm", bare.timestamp, "custom", "usage", '"just text"', 1, null, null],
  ]);
  assert.deepEqual(JSON.parse(String(rows[0]![5])), record.data);
});

test("a custom_records table without connection_id (layout 1) gains it and takes new rows", async () => {
  const path = join(dir, "custom-v1.db");
  sqlite3(
    path,
    "CREATE TABLE custom_records (id TEXT PRIMARY KEY, route_name TEXT, timestamp TEXT, type TEXT, plugin TEXT, data TEXT, v INTEGER, tags TEXT); INSERT INTO custom_records VALUES ('old', 'api', '2024-01-01T00:00:00Z', 'custom', 'p', '1', 1, NULL); PRAGMA user_version = 1;",
  );
  const sink = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 0 });
  const record: CustomRecord = {
    type: "custom",
    v: 1,
    id: "new",
    route_name: "api",
    timestamp: "2025-01-01T00:00:00Z",
    plugin: "p",
    connection_id: "conn",
    data: 2,
  };
  await sink.writeBatch([record]);
  await sink.close();
  assert.equal(
    sqlite3(
      path,
      "select group_concat(id || ':' || data || ':' || ifnull(connection_id, '-'), ',') from custom_records",
    ),
    "old:1:-,new:2:conn",
  );
  assert.equal(
    Number(sqlite3(path, "select count(*) from pragma_table_info('custom_records')")),
    CUSTOM_COLUMNS.length,
  );
  assert.equal(sqlite3(path, "PRAGMA user_version"), String(SQLITE_SCHEMA_VERSION));
});

test("flushes replace the file atomically and leave no temporary files; statements survive the export", async () => {
  const sub = join(dir, "atomic");
  const path = join(sub, "api.db");
  const sink = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 0 });
  for (let i = 0; i < 5; i++) {
    await sink.writeBatch([httpRecord(`/${i}`), frameRecord("conn")]);
    await sink.flush();
    assert.equal((await counts(path)).http_entries, i + 1, `after flush ${i + 1}`);
  }
  // Concurrent flushes and writes are serialised.
  await Promise.all([
    sink.writeBatch([httpRecord("/x")]),
    sink.flush(),
    sink.flush(),
    sink.writeBatch([httpRecord("/y")]),
  ]);
  await sink.close();
  assert.deepEqual(await readdir(sub), ["api.db"]);
  assert.equal((await counts(path)).http_entries, 7);
  assert.equal((await counts(path)).websocket_frames, 5);
});

test("a flush without new rows does not rewrite the file", async () => {
  const path = join(dir, "idle.db");
  const sink = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 0 });
  await sink.writeBatch([httpRecord("/1")]);
  await sink.flush();
  const before = (await stat(path)).ino;
  await sink.flush();
  await sink.close();
  // Every write renames a new file over the old one, so the inode shows whether one happened.
  assert.equal((await stat(path)).ino, before);
});

test("the interval flushes changed rows without a call, and only when rows changed", async () => {
  const path = join(dir, "interval.db");
  const errors: unknown[] = [];
  const sink = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 40, onError: (e) => errors.push(e) });
  await sink.open();
  await sink.writeBatch([httpRecord("/1"), httpRecord("/2")]);
  const deadline = Date.now() + 3000;
  while ((await counts(path)).http_entries < 2) {
    assert.ok(Date.now() < deadline, "the interval flush did not write the rows within 3 s");
    await sleep(20);
  }
  const ino = (await stat(path)).ino;
  await sleep(200);
  assert.equal((await stat(path)).ino, ino, "idle intervals leave the file alone");
  await sink.close();
  assert.deepEqual(errors, []);
});

test("reopening an existing file appends to it", async () => {
  const path = join(dir, "reopen.db");
  const one = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 0 });
  const first = httpRecord("/first");
  await one.writeBatch([first, sseRecord(first.id, 1)]);
  await one.close();
  const two = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 0 });
  await two.writeBatch([httpRecord("/second"), httpRecord("/third"), sseRecord(first.id, 2)]);
  // A record written twice keeps one row.
  await two.writeBatch([first]);
  await two.close();
  assert.deepEqual(await counts(path), { http_entries: 3, websocket_frames: 0, sse_events: 2, custom_records: 0 });
  assert.equal(
    sqlite3(path, "select group_concat(req_url, ',') from (select req_url from http_entries order by rowid)"),
    "/first,/second,/third",
  );
});

test("a file that is not a SQLite database fails open with its path in the message", async () => {
  const path = join(dir, "corrupt.db");
  await writeFile(path, "this is not a database, it is a text file ".repeat(200));
  const sink = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 0 });
  await assert.rejects(sink.open(), (error: Error & { code?: string }) => {
    assert.ok(error.message.includes(path), error.message);
    assert.match(error.message, /^Cannot open SQLite database .*: file is not a database$/);
    assert.equal(error.code, "sqlite_open");
    return true;
  });
  await assert.rejects(sink.writeBatch([httpRecord("/x")]), /file is not a database/);
  await sink.close();
  assert.match(
    await nodeFileSystem.readFile(path).then((b) => new TextDecoder().decode(b.subarray(0, 14))),
    /^this is not a /,
  );
});

test("a table from an older layout gains the missing columns and takes new rows", async () => {
  const path = join(dir, "older.db");
  // http-tap-proxy's http_entries had no tapline columns.
  sqlite3(
    path,
    "CREATE TABLE http_entries (id TEXT PRIMARY KEY, route_name TEXT NOT NULL, timestamp TEXT NOT NULL, req_method TEXT, req_url TEXT); INSERT INTO http_entries VALUES ('old', 'api', '2024-01-01T00:00:00Z', 'GET', '/old');",
  );
  const sink = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 0 });
  await sink.writeBatch([httpRecord("/new")]);
  await sink.close();
  assert.equal(
    sqlite3(path, "select group_concat(req_url || ':' || ifnull(upstream, '-'), ',') from http_entries"),
    "/old:-,/new:http://127.0.0.1:9000",
  );
  const columns = sqlite3(path, "select count(*) from pragma_table_info('http_entries')");
  assert.equal(Number(columns), HTTP_COLUMNS.length);
});

test("rotate moves the rows to the rotated file and continues in a fresh database", async () => {
  const sub = join(dir, "rotate");
  const path = join(sub, "api.db");
  const rotated = join(sub, "api-20250101T000000Z.db");
  const sink = new SqliteSink(path, nodeFileSystem, { flushIntervalMs: 0 });
  await sink.writeBatch([httpRecord("/1"), httpRecord("/2"), frameRecord("c")]);
  const grown = sink.approximateBytes;
  assert.ok(grown >= 4096, `approximateBytes ${grown}`);
  const rotation = sink.rotate(rotated);
  // Written while the rotation is queued: still part of the rotated segment.
  const during = sink.writeBatch([httpRecord("/3")]);
  await Promise.all([rotation, during]);
  await sink.writeBatch([httpRecord("/after")]);
  await sink.flush();
  assert.deepEqual(await counts(rotated), { http_entries: 3, websocket_frames: 1, sse_events: 0, custom_records: 0 });
  assert.deepEqual(await counts(path), { http_entries: 1, websocket_frames: 0, sse_events: 0, custom_records: 0 });
  await assert.rejects(sink.rotate(rotated), /the file exists/);
  await sink.writeBatch([httpRecord("/still")]);
  await sink.close();
  assert.equal(sqlite3(path, "select count(*) from http_entries"), "2");
  assert.equal(sqlite3(rotated, "select count(*) from http_entries"), "3");
  assert.deepEqual((await readdir(sub)).sort(), ["api-20250101T000000Z.db", "api.db"]);
});

test("a failed rotation keeps the rows and the next flush finishes it", async () => {
  const sub = join(dir, "rotate-retry");
  const path = join(sub, "api.db");
  const rotated = join(sub, "api-1.db");
  let failRename = true;
  const fs = {
    ...nodeFileSystem,
    rename: (from: string, to: string) => {
      if (failRename) return Promise.reject(new Error("rename refused"));
      return nodeFileSystem.rename(from, to);
    },
    writeFileAtomic: (p: string, bytes: Uint8Array) => {
      if (failRename && p === rotated) return Promise.reject(new Error("copy refused"));
      return nodeFileSystem.writeFileAtomic(p, bytes);
    },
  };
  const sink = new SqliteSink(path, fs, { flushIntervalMs: 0 });
  await sink.writeBatch([httpRecord("/1"), httpRecord("/2")]);
  await assert.rejects(sink.rotate(rotated), /copy refused/);
  await sink.writeBatch([httpRecord("/new")]);
  failRename = false;
  await sink.flush();
  assert.equal((await counts(rotated)).http_entries, 2);
  assert.equal((await counts(path)).http_entries, 1);
  await sink.close();
});

test("close is idempotent, and a closed sink refuses writes", async () => {
  const never = new SqliteSink(join(dir, "never.db"), nodeFileSystem);
  await never.close();
  await never.close();
  assert.equal(existsSync(join(dir, "never.db")), false);
  const sink = new SqliteSink(join(dir, "closed.db"), nodeFileSystem);
  await sink.writeBatch([httpRecord("/1")]);
  await sink.close();
  await sink.close();
  await assert.rejects(sink.writeBatch([httpRecord("/2")]), /closed/);
  assert.equal((await counts(join(dir, "closed.db"))).http_entries, 1);
});

/** Runs the driver under another runtime and checks what it wrote. */
function checkDriver(command: string, args: string[], file: string, cwd = repoRoot): void {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 60_000 });
  assert.equal(result.status, 0, `${command} ${args.join(" ")} failed: ${result.error ?? ""}${result.stderr}`);
  const out = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
  assert.deepEqual(out, {
    http_entries: 3,
    websocket_frames: 3,
    sse_events: 3,
    binary_body_hex: Buffer.from(BINARY_BODY).toString("hex").toUpperCase(),
  });
  assert.equal(sqlite3(file, "select count(*) from websocket_frames"), "3");
}

const driver = "test/unit/sinks/sqlite-driver.ts";

test("the sink works under Deno without permissions beyond the file's directory", () => {
  const file = join(dir, "deno.db");
  checkDriver(
    join(repoRoot, "node_modules/.bin/deno"),
    ["run", `--allow-read=${repoRoot},${dir}`, `--allow-write=${dir}`, driver, file, "3"],
    file,
  );
});

test("the sink works under Bun", () => {
  const file = join(dir, "bun.db");
  checkDriver(join(repoRoot, "node_modules/.bin/bun"), [driver, file, "3"], file);
});

test("the sink works inside a bun build --compile binary", { timeout: 120_000 }, () => {
  const binary = join(dir, "sqlite-driver-bin");
  const build = spawnSync(
    join(repoRoot, "node_modules/.bin/bun"),
    ["build", "--compile", driver, "--outfile", binary],
    {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 100_000,
    },
  );
  assert.equal(build.status, 0, `bun build --compile failed: ${build.stderr}`);
  const file = join(dir, "compiled.db");
  // Run from another directory, so nothing is found in node_modules at run time.
  checkDriver(binary, [file, "3"], file, dir);
});
