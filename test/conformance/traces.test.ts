/**
 * Reading captures through the admin API and the CLI, against one tapline
 * process per runtime with three routes: `api` (JSONL, rotating at 1 MB),
 * `db` (SQLite only) and `live` (WebSocket and SSE upstream, JSONL). Checks
 * the list and its cursor over 5,000 records while new ones arrive and files
 * rotate, filters, details of a WebSocket and an event stream, replay pacing,
 * HAR and JSONL exports (HAR validated against a HAR 1.2 schema, 413 over
 * the cap), the live tail (resume, a stalled subscriber), authentication,
 * and `tapline tail|inspect|export|replay`.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { WebSocket } from "ws";
import type { CaptureRecord } from "../../src/shared/record.ts";
import { type ClientResponse, request } from "./harness/client.ts";
import { proxySpec, sleep, tearDown, tempDir } from "./harness/fixture.ts";
import { runTapline, startTapline, Tapline } from "./harness/tapline.ts";
import { startUpstream, type Upstream } from "./harness/upstream.ts";
import { SSE_TIMED_GAP_MS, startWsUpstream, type WsUpstream } from "./harness/ws-upstream.ts";
import { engineOf, repoRoot, runtimes } from "./harness/runtimes.ts";

const T = { timeout: 120_000 };
const READ_TOKEN = "read-token-for-traces-0123456789";
const API_REQUESTS = 5000;
const DB_REQUESTS = 500;

const ajv = new Ajv2020({ strict: true, allErrors: true });
const validateHar = ajv.compile(
  JSON.parse(readFileSync(join(repoRoot, "test/fixtures/har-1.2.schema.json"), "utf8")) as object,
);

interface Summary {
  id: string;
  time: string;
  route: string;
  type: string;
  url?: string;
  status?: number;
}
interface Page {
  traces: Summary[];
  next_cursor: string | null;
}

/** Sends `count` GETs with `concurrency` keep-alive connections. */
async function load(url: (i: number) => string, count: number, concurrency = 16): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const res = await request(url(i), { agent, timeoutMs: 10_000 });
      assert.equal(res.status, 200, `request ${i}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
}

/** Every record of the JSONL files of a capture (live and rotated) whose name starts with `stem`. */
function jsonlRecords(dir: string, stem: string): CaptureRecord[] {
  return readdirSync(dir).filter((name) => name.startsWith(stem) && name.endsWith(".jsonl")).flatMap((name) =>
    readFileSync(join(dir, name), "utf8").split("\n").filter((line) => line.startsWith("{")).flatMap((line) => {
      try {
        return [JSON.parse(line) as CaptureRecord];
      } catch {
        return [];
      }
    })
  );
}

/** Reads an event stream until `until` says stop or `timeoutMs` passes; the events with their arrival times. */
/** One event of an event stream, with when it was read. */
interface TailEvent {
  id?: string;
  event: string;
  data: string;
  at: number;
}

function readEvents(
  url: string,
  headers: Record<string, string>,
  until: (events: TailEvent[]) => boolean,
  timeoutMs: number,
  pauseMs = 0,
): Promise<TailEvent[]> {
  return new Promise((resolve, reject) => {
    const events: TailEvent[] = [];
    let buffer = "";
    const req = httpRequest(url, { agent: false, headers: { accept: "text/event-stream", ...headers } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`${url} answered ${res.statusCode}`));
        req.destroy();
        return;
      }
      res.setEncoding("utf8");
      // Destroying the request on purpose resets the response: not an error of the test.
      res.on("error", () => {});
      if (pauseMs > 0) {
        // A stalled subscriber: nothing is read for a while.
        res.pause();
        setTimeout(() => res.resume(), pauseMs);
      }
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: TailEvent = {
            event: "message",
            data: "",
            at: performance.now(),
          };
          let data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue;
            const colon = line.indexOf(":");
            const field = colon === -1 ? line : line.slice(0, colon);
            const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "id") event.id = value;
            else if (field === "event") event.event = value;
            else if (field === "data") data.push(value);
          }
          if (data.length === 0 && event.id === undefined) continue;
          event.data = data.join("\n");
          data = [];
          events.push(event);
          if (until(events)) {
            clearTimeout(timer);
            req.destroy();
            resolve(events);
            return;
          }
        }
      });
      res.on("end", () => {
        clearTimeout(timer);
        resolve(events);
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve(events);
    }, timeoutMs);
    req.on("error", (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end();
  });
}

for (const runtime of runtimes) {
  describe(`${runtime}: reading captures`, { timeout: 600_000 }, () => {
    let up: Upstream;
    let ws: WsUpstream;
    let tap: Tapline | undefined;
    let dir = "";
    let tokenFile = "";
    const auth = { authorization: `Bearer ${READ_TOKEN}` };
    const admin = (path: string) => `http://127.0.0.1:${tap!.adminPort()}${path}`;
    const get = (path: string): Promise<ClientResponse> => request(admin(path), { headers: auth, timeoutMs: 30_000 });
    const json = async <J>(path: string): Promise<J> => {
      const res = await get(path);
      assert.equal(res.status, 200, res.body.toString("utf8"));
      assert.equal(res.headers["cache-control"], "no-store");
      return JSON.parse(res.body.toString("utf8")) as J;
    };
    let upgradeId = "";
    let streamId = "";

    before(async () => {
      up = await startUpstream("traces");
      ws = await startWsUpstream();
      dir = tempDir();
      tokenFile = join(dir, "tokens");
      writeFileSync(tokenFile, `read:${READ_TOKEN}\n`);
      tap = await startTapline(runtime, [
        "--listen-admin",
        "127.0.0.1:0",
        "--admin-token-file",
        tokenFile,
        "--rotate-size",
        "1MB",
        // Records are counted across every rotated file: retention must not remove any.
        "--retention",
        "-1",
        "--export-max-size",
        "1MB",
        "--proxy",
        proxySpec({ name: "api", upstream: up.url, log_jsonl: join(dir, "api.jsonl") }),
        "--proxy",
        proxySpec({ name: "db", upstream: up.url, log_sqlite: join(dir, "db.db") }),
        "--proxy",
        proxySpec({ name: "live", upstream: ws.url, log_jsonl: join(dir, "live.jsonl") }),
      ]);
    });

    after(async () => {
      await tearDown(tap, [up], dir);
      await ws?.close();
    });

    test(
      "every trace route needs a token (401 without one) and a Host name the listener answers for (403)",
      T,
      async () => {
        for (const path of ["/api/traces", "/api/traces/x", "/api/traces/x/replay", "/api/export", "/api/tail"]) {
          const res = await request(admin(path));
          assert.equal(res.status, 401, path);
          assert.match(String(res.headers["www-authenticate"]), /^Bearer/);
          // With a token, but through a Host name this listener does not answer for: 403.
          const foreign = await request(admin(path), { headers: { ...auth, host: "evil.example" } });
          assert.equal(foreign.status, 403, path);
        }
      },
    );

    test(
      `the list pages through ${API_REQUESTS} records newest first, with no duplicates or gaps while records arrive and files rotate`,
      T,
      async () => {
        await load((i) => tap!.url("api", `/bytes/100?n=${i}`), API_REQUESTS);
        await load((i) => tap!.url("db", `/bytes/10?n=${i}`), DB_REQUESTS);
        // Everything the writer has flushed by now must be listed.
        await sleep(1500);
        const before = new Set(jsonlRecords(dir, "api").map((r) => r.id));
        assert.equal(before.size, API_REQUESTS);
        assert.ok(readdirSync(dir).filter((n) => /^api-.*\.jsonl$/.test(n)).length >= 2, "api rotated at least twice");
        // New records (and rotations) while paging.
        let arriving = true;
        const background = (async () => {
          let i = 0;
          while (arriving) {
            await request(tap!.url("api", `/bytes/100?late=${i++}`));
          }
        })();
        const seen = new Set<string>();
        let cursor: string | null = null;
        let pages = 0;
        let previous = new Date(Date.now() + 60_000).toISOString();
        do {
          const page: Page = await json<Page>(
            `/api/traces?route=api&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
          );
          for (const trace of page.traces) {
            assert.ok(!seen.has(trace.id), `duplicate ${trace.id} on page ${pages}`);
            seen.add(trace.id);
            assert.equal(trace.route, "api");
            // Newest first in capture order: an exchange is written when it ends, so overlapping ones may be a few
            // milliseconds out of timestamp order, never more than a request lasts.
            assert.ok(
              Date.parse(trace.time) <= Date.parse(previous) + 2_000,
              `newest first: ${trace.time} after ${previous}`,
            );
            previous = trace.time;
          }
          cursor = page.next_cursor;
          pages++;
        } while (cursor !== null && pages < 100);
        arriving = false;
        await background;
        const missing = [...before].filter((id) => !seen.has(id));
        assert.deepEqual(missing, [], `${missing.length} records never listed`);
        // The SQLite route, read from the live database.
        const db = await json<Page>("/api/traces?route=db&limit=500");
        assert.equal(db.traces.length, 500);
        assert.ok(db.traces.every((t) => t.route === "db" && t.status === 200));
      },
    );

    test("filters, bounds and bad input", T, async () => {
      await request(tap!.url("api", "/status/503?filtered=1"));
      await request(tap!.url("db", "/status/404?filtered=2"));
      await sleep(500);
      const errors = await json<Page>(`/api/traces?q=${encodeURIComponent("~s 5xx | ~s 404")}&limit=10`);
      assert.deepEqual(errors.traces.map((t) => [t.route, t.status]).sort(), [["api", 503], ["db", 404]]);
      const urlFilter = await json<Page>(`/api/traces?q=${encodeURIComponent("~u filtered=2")}`);
      assert.deepEqual(urlFilter.traces.map((t) => t.url), ["/status/404?filtered=2"]);
      const future = await json<Page>(`/api/traces?since=${Date.now() + 60_000}`);
      assert.deepEqual(future.traces, []);
      const bad = await get(`/api/traces?q=${encodeURIComponent("~s 5xx & (")}`);
      assert.equal(bad.status, 400);
      const body = JSON.parse(bad.body.toString("utf8")) as {
        error: { code: string; column: number; message: string };
      };
      assert.equal(body.error.code, "filter_invalid");
      assert.equal(body.error.column, 11);
      assert.equal((await get("/api/traces?cursor=not-a-cursor!")).status, 400);
      assert.equal((await get("/api/traces?limit=501")).status, 400);
      assert.equal((await get("/api/traces/no-such-id")).status, 404);
    });

    test("the detail of a WebSocket exchange holds its frames, an event stream's its events", T, async () => {
      const socket = new WebSocket(tap!.url("live", "/ws/echo").replace("http", "ws"));
      await new Promise((resolve, reject) => {
        socket.once("open", resolve);
        socket.once("error", reject);
      });
      const echoes: string[] = [];
      socket.on("message", (data) => echoes.push(String(data)));
      socket.send("one");
      socket.send("two");
      while (echoes.length < 2) await sleep(20);
      socket.close(1000, "done");
      await new Promise((resolve) => socket.once("close", resolve));
      const sse = await request(tap!.url("live", "/sse/timed"), { timeoutMs: 10_000 });
      assert.equal(sse.status, 200);
      await sleep(1000);
      const upgrades = await json<Page>(`/api/traces?route=live&q=${encodeURIComponent("~t websocket")}`);
      upgradeId = upgrades.traces[0]!.id;
      const detail = await json<
        { record: CaptureRecord; frames: { items: { payload?: string; direction: string }[]; total: number } }
      >(
        `/api/traces/${upgradeId}`,
      );
      assert.equal(detail.record.id, upgradeId);
      const texts = detail.frames.items.filter((f) => f.payload === "one" || f.payload === "two");
      // Both messages may be sent before the first echo: compared as a set.
      assert.deepEqual(texts.map((f) => `${f.direction} ${f.payload}`).sort(), [
        "client_to_server one",
        "client_to_server two",
        "server_to_client one",
        "server_to_client two",
      ]);
      const streams = await json<Page>(`/api/traces?route=live&q=${encodeURIComponent("~t sse")}`);
      streamId = streams.traces[0]!.id;
      const events = await json<{ events: { items: { data: string }[]; total: number } }>(`/api/traces/${streamId}`);
      assert.deepEqual(events.events.items.map((e) => e.data), ["first", "second"]);
      assert.equal(events.events.total, 2);
    });

    test(
      "replay re-emits the event stream with its pacing (within 20%), in order, and refuses other traces",
      T,
      async () => {
        const started = performance.now();
        const events = await readEvents(admin(`/api/traces/${streamId}/replay`), auth, (e) => e.length === 2, 10_000);
        assert.deepEqual(events.map((e) => [e.event, e.data, e.id]), [["tick", "first", "t1"], [
          "tick",
          "second",
          "t2",
        ]]);
        const gap = events[1]!.at - events[0]!.at;
        assert.ok(Math.abs(gap - SSE_TIMED_GAP_MS) <= SSE_TIMED_GAP_MS * 0.2, `gap ${gap} ms at speed 1`);
        const fast = await readEvents(
          admin(`/api/traces/${streamId}/replay?speed=2`),
          auth,
          (e) => e.length === 2,
          10_000,
        );
        const fastGap = fast[1]!.at - fast[0]!.at;
        assert.ok(
          Math.abs(fastGap - SSE_TIMED_GAP_MS / 2) <= (SSE_TIMED_GAP_MS / 2) * 0.2,
          `gap ${fastGap} ms at speed 2`,
        );
        assert.ok(performance.now() - started < 5_000);
        const refused = await get(`/api/traces/${upgradeId}/replay`);
        assert.equal(refused.status, 400);
        assert.match(refused.body.toString("utf8"), /not_event_stream/);
      },
    );

    test(
      "export: HAR valid against the schema with WebSocket messages, JSONL of a route, 413 over the cap",
      T,
      async () => {
        const har = await get("/api/export?format=har&route=live");
        assert.equal(har.status, 200, har.body.toString("utf8"));
        const document = JSON.parse(har.body.toString("utf8")) as {
          log: { entries: { _tapline: { id: string }; _webSocketMessages?: { type: string; data: string }[] }[] };
        };
        assert.ok(validateHar(document), ajv.errorsText(validateHar.errors));
        const upgrade = document.log.entries.find((e) => e._tapline.id === upgradeId)!;
        assert.ok(upgrade._webSocketMessages!.some((m) => m.type === "send" && m.data === "one"));
        const jsonl = await get("/api/export?format=jsonl&route=db");
        assert.equal(jsonl.status, 200);
        const lines = jsonl.body.toString("utf8").trim().split("\n");
        assert.equal(lines.length, DB_REQUESTS + 1); // and the 404 of the filter test
        // The measured size is announced; Bun sends a stream response chunked whatever the header says.
        const length = jsonl.headers["content-length"];
        if (engineOf(runtime) !== "bun" || length !== undefined) assert.equal(Number(length), jsonl.body.length);
        const tooBig = await get("/api/export?format=jsonl&route=api");
        assert.equal(tooBig.status, 413);
        assert.match(tooBig.body.toString("utf8"), /export_too_large/);
      },
    );

    test(
      "tail delivers records live, resumes with Last-Event-ID, and a stalled subscriber gets dropped",
      T,
      async () => {
        const q = `?q=${encodeURIComponent("~r api & ~u tail=")}`;
        const messages = (events: TailEvent[]) => events.filter((event) => event.event === "message");
        let subscribed!: () => void;
        const ready = new Promise<void>((resolve) => (subscribed = resolve));
        const first = readEvents(admin(`/api/tail${q}`), auth, (e) => {
          if (e[0]?.event === "ready") subscribed();
          return messages(e).length === 3;
        }, 10_000);
        // `ready` comes once the subscription is in place: nothing sent after it can be missed.
        await Promise.race([ready, first]);
        for (let i = 0; i < 3; i++) await request(tap!.url("api", `/bytes/10?tail=${i}`));
        const opened = await first;
        assert.equal(opened[0]!.event, "ready");
        assert.deepEqual(JSON.parse(opened[0]!.data), { resumed: false });
        const live = messages(opened);
        const urls = live.map((e) => (JSON.parse(e.data) as { request?: { url: string } }).request?.url ?? e.data);
        assert.deepEqual(urls, ["/bytes/10?tail=0", "/bytes/10?tail=1", "/bytes/10?tail=2"]);
        assert.deepEqual(live.map((e) => e.id), live.map((e) => (JSON.parse(e.data) as { id: string }).id));
        for (let i = 3; i < 5; i++) await request(tap!.url("api", `/bytes/10?tail=${i}`));
        await sleep(500);
        const reopened = await readEvents(
          admin(`/api/tail${q}`),
          { ...auth, "last-event-id": live[2]!.id! },
          (e) => messages(e).length === 2,
          5_000,
        );
        // A resumed stream starts where the client said it was.
        assert.deepEqual(reopened[0], { ...reopened[0], event: "ready", id: live[2]!.id, data: '{"resumed":true}' });
        const resumed = messages(reopened);
        assert.deepEqual(
          resumed.map((e) => (JSON.parse(e.data) as { request: { url: string } }).request.url),
          ["/bytes/10?tail=3", "/bytes/10?tail=4"],
        );
        // Not resuming, `backlog` sends the newest matching records first; ready's id is the record before them.
        const backlog = await readEvents(
          admin(`/api/tail${q}&backlog=2`),
          auth,
          (e) => messages(e).length === 2,
          5_000,
        );
        assert.deepEqual(backlog[0], { ...backlog[0], event: "ready", id: live[2]!.id, data: '{"resumed":false}' });
        assert.deepEqual(
          messages(backlog).map((e) => (JSON.parse(e.data) as { request: { url: string } }).request.url),
          ["/bytes/10?tail=3", "/bytes/10?tail=4"],
        );
        const tooMany = await get("/api/tail?backlog=1001");
        assert.equal(tooMany.status, 400);
        assert.match(tooMany.body.toString("utf8"), /backlog must be an integer from 0 to 1000/);
        // A subscriber that reads nothing for 6 s while 2,000 records of ~16 KB pass (more than the sockets hold).
        const stalled = readEvents(
          admin(`/api/tail?q=${encodeURIComponent("~u stall=")}`),
          auth,
          (e) => e.some((x) => x.event === "dropped"),
          30_000,
          6_000,
        );
        await sleep(300);
        const before = jsonlRecords(dir, "api").length;
        await load((i) => tap!.url("api", `/bytes/12000?stall=${i}`), 2000, 8);
        const events = await stalled;
        const dropped = events.find((e) => e.event === "dropped");
        assert.ok(dropped, `no dropped event among ${events.length}`);
        assert.ok((JSON.parse(dropped.data) as { count: number }).count > 0);
        await sleep(1500);
        assert.equal(jsonlRecords(dir, "api").length - before, 2000, "capture recorded every request");
      },
    );

    test("tapline tail --json prints live records; inspect, export and replay work on the files", T, async () => {
      /** `tapline tail --json` on the records of this test's requests, with `extra` flags. */
      const tailCli = (...extra: string[]) =>
        new Tapline(runtime, [
          "tail",
          "--json",
          ...extra,
          "--filter",
          "~u cli=",
          "--admin",
          admin(""),
          "--token-file",
          tokenFile,
        ]);
      const tail = tailCli();
      try {
        await sleep(1500);
        await request(tap!.url("api", "/bytes/10?cli=1"));
        const deadline = Date.now() + 10_000;
        while (!tail.stdout.includes("cli=1") && Date.now() < deadline) await sleep(100);
        const line = tail.stdout.split("\n").find((l) => l.includes("cli=1"));
        assert.ok(line, `tail printed: ${tail.stdout}\n${tail.stderr}`);
        assert.equal((JSON.parse(line) as { request: { url: string } }).request.url, "/bytes/10?cli=1");
      } finally {
        await tail.kill();
      }
      // --last prints what already passed, with no new traffic.
      const recent = tailCli("--last", "5");
      try {
        const deadline = Date.now() + 10_000;
        while (!recent.stdout.includes("cli=1") && Date.now() < deadline) await sleep(100);
        const lines = recent.stdout.split("\n").filter((l) => l.startsWith("{"));
        assert.deepEqual(lines.map((l) => (JSON.parse(l) as { request: { url: string } }).request.url), [
          "/bytes/10?cli=1",
        ], `tail --last printed: ${recent.stdout}\n${recent.stderr}`);
      } finally {
        await recent.kill();
      }
      const badLast = await runTapline(runtime, ["tail", "--last", "many", "--admin", admin("")]);
      assert.equal(badLast.code, 64);
      assert.match(badLast.stderr, /--last must be a whole number from 0 to 1000 \(got "many"\)/);
      const live = join(dir, "live.jsonl");
      const inspect = await runTapline(runtime, ["inspect", "--json", live]);
      assert.equal(inspect.code, 0, inspect.stderr);
      const summary = JSON.parse(inspect.stdout) as { byType: Record<string, number>; records: number };
      assert.equal(summary.byType["sse_event"], 2);
      assert.ok((summary.byType["websocket_frame"] ?? 0) >= 4);
      const out = join(dir, "live.har");
      const exported = await runTapline(runtime, ["export", "--format", "har", "-o", out, live]);
      assert.equal(exported.code, 0, exported.stderr);
      assert.ok(validateHar(JSON.parse(readFileSync(out, "utf8"))), ajv.errorsText(validateHar.errors));
      const replay = await runTapline(runtime, ["replay", streamId, "--no-delay", live]);
      assert.equal(replay.code, 0, replay.stderr);
      assert.equal(replay.stdout, "event: tick\nid: t1\ndata: first\n\nevent: tick\nid: t2\ndata: second\n\n");
      const missing = await runTapline(runtime, ["inspect", join(dir, "nope.jsonl")]);
      assert.equal(missing.code, 64);
      assert.match(missing.stderr, /Capture file ".*nope\.jsonl" does not exist/);
    });
  });
}
