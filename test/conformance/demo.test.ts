/**
 * `tapline demo` on each target: the demo upstream, tapline with the
 * quickstart's plugins, capture and the admin port in one process; traffic
 * it sends itself reaches the records (HTTP, SSE and WebSocket, a secret
 * redacted, a replaced text); a real curl through the printed proxy address
 * gets the demo app's answer; SIGINT stops it with every record flushed; a
 * taken port is an error that names the flag to change.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { removeDir, sleep, tempDir } from "./harness/fixture.ts";
import { runtimes } from "./harness/runtimes.ts";
import { tableCounts } from "./harness/sqlite.ts";
import { Tapline } from "./harness/tapline.ts";

const T = { timeout: 60_000 };
const FREE_PORTS = ["--listen", "127.0.0.1:0", "--upstream-listen", "127.0.0.1:0", "--listen-admin", "127.0.0.1:0"];

interface DemoInfo {
  proxy: string;
  upstream: string;
  admin: string;
  viewer: string;
  token_file: string;
  data_dir: string;
  jsonl: string;
  sqlite: string;
}

type Record = { type: string; id: string; [key: string]: unknown };

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["-sS", "--max-time", "10", ...args], (error, stdout, stderr) => {
      if (error) reject(new Error(`curl ${args.join(" ")} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Resolves with the demo's first stdout line (its addresses, with --json). */
async function infoOf(demo: Tapline): Promise<DemoInfo> {
  const deadline = Date.now() + 30_000;
  while (!demo.stdout.includes("\n")) {
    if (demo.exitStatus !== undefined) throw new Error(`the demo exited early\n${demo.stderr}`);
    if (Date.now() > deadline) throw new Error(`the demo printed nothing in 30 s\n${demo.stderr}`);
    await sleep(50);
  }
  return JSON.parse(demo.stdout.slice(0, demo.stdout.indexOf("\n"))) as DemoInfo;
}

async function exitWithin(demo: Tapline, ms: number) {
  const status = await Promise.race([demo.exited, sleep(ms).then(() => undefined)]);
  if (status === undefined) {
    await demo.kill();
    throw new Error(`the demo was still running after ${ms} ms\n${demo.stderr}`);
  }
  return status;
}

const readRecords = (file: string): Record[] =>
  readFileSync(file, "utf8").split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Record);

function occupy(): Promise<{ server: Server; address: string }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      resolve({ server, address: `127.0.0.1:${port}` });
    });
  });
}

for (const runtime of runtimes) {
  describe(`${runtime}: tapline demo`, { timeout: 240_000 }, () => {
    let dir = "";
    before(() => {
      dir = tempDir("tapline-demo-");
    });
    after(() => removeDir(dir));

    test(
      "--traffic 20 --duration 5s: exits 0 with HTTP, SSE and WebSocket records, redacted and replaced",
      T,
      async () => {
        const dataDir = join(dir, "traffic");
        const demo = new Tapline(runtime, [
          "demo",
          "--traffic",
          "20",
          "--duration",
          "5s",
          "--data-dir",
          dataDir,
          "--json",
          ...FREE_PORTS,
        ]);
        const info = await infoOf(demo);
        assert.equal(info.data_dir, dataDir);
        assert.match(info.proxy, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.equal(info.viewer, `${info.admin}/ui/`);
        // A user's own curl through the printed proxy address reaches the demo app, secret and all.
        const listing = JSON.parse(await curl([`${info.proxy}/`])) as { routes: unknown[]; base_url: string };
        assert.ok(listing.routes.length >= 8);
        assert.equal(listing.base_url, "https://api.example.com", "text-replace rewrote the app's internal URL");
        const status = await curl([
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "-H",
          "Authorization: Bearer curl-secret-token-123",
          `${info.proxy}/api/users/1`,
        ]);
        assert.equal(status, "200");

        const exit = await exitWithin(demo, 30_000);
        assert.deepEqual(exit, { code: 0, signal: null }, demo.stderr);
        assert.match(demo.stderr, /stopped \(duration\); \d+ records in /);

        const records = readRecords(info.jsonl);
        const types = new Set(records.map((r) => r.type));
        for (const type of ["http", "sse_event", "websocket_frame"]) assert.ok(types.has(type), `a ${type} record`);
        const http = records.filter((r) => r.type === "http") as Array<
          Record & { request: { url: string; headers: { [name: string]: string[] } }; response?: { status: number } }
        >;
        const statuses = new Set(http.map((r) => r.response?.status));
        for (const code of [200, 201, 404, 503]) assert.ok(statuses.has(code), `a ${code} exchange`);
        const authorization = (r: (typeof http)[number]) =>
          Object.entries(r.request.headers).find(([name]) => name.toLowerCase() === "authorization")?.[1];
        const mine = http.find((r) => r.request.url === "/api/users/1" && authorization(r) !== undefined);
        assert.deepEqual(mine && authorization(mine), ["[REDACTED]"], "the curl's Authorization header is redacted");
        const text = readFileSync(info.jsonl, "utf8");
        assert.doesNotMatch(text, /curl-secret-token-123|sk-demo-/, "no secret reaches the capture file");
        assert.doesNotMatch(text, /internal-app\.local/);
        assert.ok(http.length > 40, `${http.length} http records for 5 s at 20/s`);

        // SQLite holds the same exchanges, readable by the stock shell.
        const counts = tableCounts(info.sqlite);
        assert.equal(counts.http_entries, http.length);
        assert.equal(counts.sse_events, records.filter((r) => r.type === "sse_event").length);
        assert.equal(counts.websocket_frames, records.filter((r) => r.type === "websocket_frame").length);

        // The live table (--json: one record a line) showed records as they were written.
        const printed = demo.stdout.trim().split("\n").slice(1).map((line) => (JSON.parse(line) as Record).id);
        const ids = new Set(records.map((r) => r.id));
        assert.ok(printed.length > 0, "records were printed live");
        for (const id of printed) assert.ok(ids.has(id), `printed record ${id} is in the file`);
      },
    );

    test("SIGINT stops it with exit 0 and every record flushed", T, async () => {
      const dataDir = join(dir, "signal");
      const demo = new Tapline(runtime, ["demo", "--traffic", "10", "--data-dir", dataDir, "--json", ...FREE_PORTS]);
      const info = await infoOf(demo);
      await sleep(1500);
      demo.child.kill("SIGINT");
      const exit = await exitWithin(demo, 30_000);
      assert.deepEqual(exit, { code: 0, signal: null }, demo.stderr);
      const match = /stopped \(SIGINT\); (\d+) records in .*; the demo sent (\d+) exchanges \((\d+) failed\)/.exec(
        demo.stderr,
      );
      assert.ok(match, demo.stderr);
      const records = readRecords(info.jsonl);
      assert.equal(records.length, Number(match[1]));
      // The demo lets its exchanges in flight finish before it stops tapline: each one sent is one http record.
      assert.equal(match[3], "0", "no exchange failed");
      assert.ok(Number(match[2]) >= 10, `${match[2]} exchanges in 1.5 s at 10/s`);
      assert.equal(records.filter((r) => r.type === "http").length, Number(match[2]), "an http record per exchange");
    });

    for (const flag of ["--listen", "--upstream-listen", "--listen-admin"]) {
      test(`a taken ${flag} port: exit 69 naming ${flag}`, T, async () => {
        const taken = await occupy();
        try {
          const args = [...FREE_PORTS];
          args[args.indexOf(flag) + 1] = taken.address;
          const demo = new Tapline(runtime, ["demo", "--data-dir", join(dir, `taken${flag}`), ...args]);
          const exit = await exitWithin(demo, 30_000);
          assert.equal(exit.code, 69, demo.stderr);
          assert.match(demo.stderr, new RegExp(`${taken.address}.*address already in use.*with ${flag}\\b`));
          assert.doesNotMatch(demo.stderr, /^\s+at .*:\d+:\d+\)?$/m, "no stack trace");
        } finally {
          taken.server.close();
        }
      });
    }

    test("a non-loopback address is refused with exit 64", T, async () => {
      const demo = new Tapline(runtime, ["demo", "--listen", "0.0.0.0:0"]);
      const exit = await exitWithin(demo, 30_000);
      assert.equal(exit.code, 64, demo.stderr);
      assert.match(demo.stderr, /--listen must be a loopback address/);
    });
  });
}
