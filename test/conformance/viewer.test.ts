/// <reference lib="dom" />
// Functions passed to page.evaluate and friends run in the browser: they see the DOM.
/**
 * The web viewer at `/ui/`, end to end in a real headless Chromium against
 * one tapline process per runtime: log in, a request made through the proxy
 * appearing live, filtering (and a filter's parse error), a JSON, an event
 * stream and a WebSocket exchange in detail, a captured `<script>` that must
 * not run, a HAR download validated against the HAR 1.2 schema, keyboard
 * navigation, the plugins page with both scopes, phone width and dark mode.
 * Screenshots go to test/artifacts/ (git-ignored).
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { Browser, BrowserContext, HTTPRequest, Page } from "puppeteer-core";
import { WebSocket } from "ws";
import type { CaptureRecord } from "../../src/shared/record.ts";
import { launchBrowser } from "./harness/browser.ts";
import { marker, removeDir, sleep, tearDown, tempDir } from "./harness/fixture.ts";
import { writeConfig, writePlugins } from "./harness/plugin-config.ts";
import { repoRoot, runtimes } from "./harness/runtimes.ts";
import { runTapline, startTapline, type Tapline } from "./harness/tapline.ts";
import {
  BIG_BODY,
  BINARY_BODY,
  JSON_BODY,
  SSE_EVENTS,
  startViewerUpstream,
  type ViewerUpstream,
  WS_CLOSE,
  XSS_BODY,
} from "./harness/viewer-upstream.ts";

const T = { timeout: 60_000 };
const ADMIN_TOKEN = "admin-token-for-viewer-0123456789";
const READ_TOKEN = "read-token-for-viewer-0123456789";
const SECRET = "sk-live-viewer-secret-0123456789abcdef";
const ARTIFACTS = join(repoRoot, "test", "artifacts");

const validateHar = new Ajv2020({ strict: true, allErrors: true }).compile(
  JSON.parse(readFileSync(join(repoRoot, "test/fixtures/har-1.2.schema.json"), "utf8")) as object,
);

/** Emits one custom record per exchange, holding markup that must stay text. */
const NOTE_PLUGIN = `
export const manifest = { name: "note", version: "1.0.0", description: "notes each exchange", hooks: ["onCapture"] };
export function onCapture(record) {
  if (record.type === "http") emit({ seen: record.request.url, html: "<b>bold?</b>" });
  return undefined;
}
`;

/** The http records captured so far. */
function exchanges(file: string): CaptureRecord[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  // The last piece is a line still being written (or empty): only whole lines are read.
  return text.split("\n").slice(0, -1).filter((line) => line.startsWith("{")).map((line) =>
    JSON.parse(line) as CaptureRecord
  )
    .filter((record) => record.type === "http");
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Sends one of each kind of exchange through the proxy. */
async function traffic(proxy: string, wsProxy: string): Promise<void> {
  const json = await fetch(`${proxy}/json`, { headers: { authorization: `Bearer ${SECRET}` } });
  assert.deepEqual(await json.json(), JSON_BODY);
  assert.equal((await fetch(`${proxy}/fail`)).status, 503);
  assert.equal(await (await fetch(`${proxy}/xss`)).text(), XSS_BODY);
  await (await fetch(`${proxy}/bin`)).arrayBuffer();
  assert.match(await (await fetch(`${proxy}/events`)).text(), /gamma/);
  const ws = new WebSocket(`${wsProxy}/ws`);
  await new Promise<void>((resolve, reject) => {
    ws.on("open", () => ws.send("hello"));
    ws.on("message", (data) => {
      assert.equal(data.toString(), "echo hello");
      ws.send("bye");
    });
    ws.on("close", () => resolve());
    ws.on("error", reject);
  });
}

/** The rows of the trace table: url and status text. */
function rows(page: Page): Promise<{ id: string; url: string; status: string }[]> {
  return page.$$eval("table.traces tbody tr", (trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute("data-id") ?? "",
      url: tr.querySelector("td.url")?.textContent ?? "",
      status: tr.querySelector("td.status")?.textContent ?? "",
    })));
}

/** A pack built once (by `tapline pack init` and `pack build` on Node) for the upload through the page. */
const pack = { dir: "", tgz: "" };

before(async () => {
  pack.dir = tempDir("tapline-viewer-pack-");
  pack.tgz = join(pack.dir, "viewer-pack.tgz");
  for (const args of [["init", "viewer-pack"], ["build", "viewer-pack", "--out", pack.tgz]]) {
    const result = await runTapline("node", ["pack", ...args], 60_000, { cwd: pack.dir });
    assert.equal(result.code, 0, `tapline pack ${args.join(" ")}: ${result.stderr}`);
  }
});

after(() => removeDir(pack.dir));

for (const runtime of runtimes) {
  describe(`${runtime}: web viewer in Chromium`, { timeout: 300_000 }, () => {
    let up: ViewerUpstream;
    let tap: Tapline | undefined;
    let dir = "";
    let chromium: Awaited<ReturnType<typeof launchBrowser>>;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let downloads = "";
    const pageErrors: string[] = [];
    /** Every URL the page asked for, to prove it needs nothing beyond the admin port. */
    const requested: string[] = [];
    const jsonl = () => join(dir, "api.jsonl");
    const ui = () => `http://127.0.0.1:${tap!.adminPort()}/ui/`;
    const proxy = () => `http://127.0.0.1:${tap!.port("api")}`;

    /** Opens the trace whose URL is `url` from the list. */
    async function open(url: string): Promise<void> {
      await page.goto(`${ui()}#/`);
      await page.waitForFunction(
        (wanted) => [...document.querySelectorAll("table.traces td.url")].some((td) => td.textContent === wanted),
        { timeout: 10_000 },
        url,
      );
      const id = (await rows(page)).find((row) => row.url === url)!.id;
      await page.click(`tr[data-id="${id}"] td.url a`);
      await page.waitForSelector("#detail", { timeout: 10_000 });
    }

    async function login(token: string): Promise<void> {
      await page.goto(ui());
      await page.waitForSelector("#token", { timeout: 10_000 });
      await page.type("#token", token);
      await page.keyboard.press("Enter");
      await page.waitForSelector("table.traces", { timeout: 10_000 });
    }

    before(async () => {
      up = await startViewerUpstream();
      dir = tempDir("tapline-viewer-");
      downloads = join(dir, "downloads");
      mkdirSync(downloads);
      mkdirSync(ARTIFACTS, { recursive: true });
      const tokens = join(dir, "tokens");
      writeFileSync(tokens, `admin:${ADMIN_TOKEN}\nread:${READ_TOKEN}\n`);
      writePlugins(dir, { "note.js": NOTE_PLUGIN });
      const config = writeConfig(dir, "tapline.yaml", {
        listen_admin: "127.0.0.1:0",
        flush_interval: "50ms",
        max_body_size: "64KB",
        proxies: [{ name: "api", listen_http: "127.0.0.1:0", upstream: up.url, log_jsonl: jsonl() }],
        plugins: [
          { id: "scrub", use: "redaction", config: { headers: ["authorization"] } },
          { id: "note", use: "./note.js" },
        ],
      });
      // Its own data dir: the plugin list applied below is saved there and must not reach the next runtime's process.
      tap = await startTapline(runtime, [
        "--config",
        config,
        "--admin-token-file",
        tokens,
        "--data-dir",
        join(dir, "data"),
      ]);
      await traffic(proxy(), proxy().replace("http:", "ws:"));
      await until("six captured exchanges", () => exchanges(jsonl()).length >= 6);
      chromium = await launchBrowser();
      browser = chromium.browser;
      context = await browser.createBrowserContext({ downloadBehavior: { policy: "allow", downloadPath: downloads } });
      page = await context.newPage();
      page.on("pageerror", (error) => pageErrors.push(String(error)));
      page.on("request", (request) => requested.push(request.url()));
      await page.setViewport({ width: 1280, height: 800 });
    });

    after(async () => {
      await chromium?.close();
      await tearDown(tap, [up], dir);
    });

    test(
      "the page loads under its CSP and asks for a token; a wrong token is refused with the API's message",
      T,
      async () => {
        const response = await page.goto(ui());
        assert.equal(response?.status(), 200);
        assert.match(response?.headers()["content-security-policy"] ?? "", /script-src 'self'/);
        await page.waitForSelector("#token");
        await page.type("#token", "not-a-token-0123456789abcdef");
        await page.keyboard.press("Enter");
        await page.waitForSelector(".login .error");
        const message = await page.$eval(".login .error", (p) => p.textContent ?? "");
        assert.match(message, /Unknown bearer token/);
        assert.equal(await page.evaluate(() => sessionStorage.getItem("tapline.token")), null);
      },
    );

    test(
      "logging in with a read token lists the captured traces, newest first; the token stays out of the URL",
      T,
      async () => {
        await login(READ_TOKEN);
        await page.waitForFunction(() => document.querySelectorAll("table.traces tbody tr").length >= 6, {
          timeout: 10_000,
        });
        const listed = await rows(page);
        assert.deepEqual(listed.slice(0, 6).map((row) => row.url).reverse(), [
          "/json",
          "/fail",
          "/xss",
          "/bin",
          "/events",
          "/ws",
        ]);
        assert.equal(listed.find((row) => row.url === "/fail")?.status, "503");
        assert.ok(!page.url().includes(READ_TOKEN));
        assert.equal(await page.evaluate(() => sessionStorage.getItem("tapline.token")), READ_TOKEN);
        assert.equal(await page.evaluate(() => localStorage.length), 0);
        assert.equal(await page.$eval(".scope", (span) => span.textContent), "read");
        await page.screenshot({ path: join(ARTIFACTS, `viewer-list-${runtime}.png`) });
      },
    );

    test("a request made through the proxy appears in the list within 2 s, without reloading", T, async () => {
      await page.goto(`${ui()}#/`);
      await page.waitForFunction(() => document.getElementById("live-state")?.textContent === "live", {
        timeout: 10_000,
      });
      const path = `/live/${marker("viewer")}`;
      const sent = Date.now();
      const response = await fetch(`${proxy()}${path}`);
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      await page.waitForFunction(
        (wanted) => document.querySelector("table.traces tbody tr td.url")?.textContent === wanted,
        { timeout: 5_000 },
        path,
      ).catch(async (error) => {
        // What the page and the capture held, so a failure says which side lost the record.
        const state = await page.$eval("#live-state", (span) => span.textContent).catch(() => "?");
        const listed = (await rows(page)).slice(0, 3).map((row) => row.url);
        const captured = exchanges(jsonl()).some((r) => r.type === "http" && r.request.url === path);
        throw new Error(
          `${path} not first in the list after 5 s (${error}); live state ${state}, first rows ${
            JSON.stringify(listed)
          }, in the JSONL: ${captured}; tapline said:\n${tap?.stderr.slice(-2000)}`,
        );
      });
      const elapsed = Date.now() - sent;
      assert.ok(elapsed <= 2000, `the row appeared after ${elapsed} ms`);

      // Paused: a new exchange does not appear until resumed.
      await page.click("#live");
      await page.waitForFunction(() => document.getElementById("live-state")?.textContent === "paused");
      const pausedPath = `/live/${marker("paused")}`;
      await fetch(`${proxy()}${pausedPath}`);
      await sleep(700);
      assert.ok(!(await rows(page)).some((row) => row.url === pausedPath), "no new row while paused");
      // Resumed: the tail replays what passed during the pause (Last-Event-ID).
      await page.click("#live");
      await page.waitForFunction(
        (wanted) => [...document.querySelectorAll("table.traces td.url")].some((td) => td.textContent === wanted),
        { timeout: 5_000 },
        pausedPath,
      );
      assert.equal(await page.$eval("#live-state", (span) => span.textContent), "live");
    });

    /**
     * A second tab, logged in, whose first /api/traces request is held for the test to answer: a page read that
     * arrives late, or one read earlier, made certain.
     */
    async function tabWithHeldPage(): Promise<{ tab: Page; first: () => Promise<HTTPRequest> }> {
      const tab = await context.newPage();
      await tab.evaluateOnNewDocument((token) => sessionStorage.setItem("tapline.token", token), READ_TOKEN);
      await tab.setRequestInterception(true);
      let held: HTTPRequest | undefined;
      tab.on("request", (request) => {
        if (held === undefined && new URL(request.url()).pathname === "/api/traces") held = request;
        else void request.continue();
      });
      await tab.goto(`${ui()}#/`);
      await tab.waitForFunction(() => document.getElementById("live-state")?.textContent === "live", {
        timeout: 10_000,
      });
      return { tab, first: () => until("the first page request", () => held) };
    }

    /** The first page as tapline answers it now. */
    async function firstPageNow(): Promise<Buffer> {
      const answer = await fetch(`${ui().replace("/ui/", "")}/api/traces?limit=100`, {
        headers: { authorization: `Bearer ${READ_TOKEN}` },
      });
      assert.equal(answer.status, 200);
      return Buffer.from(await answer.arrayBuffer());
    }

    /** Waits until the tab has applied its first page: the sentinel under the list no longer says it is loading. */
    const pageApplied = (tab: Page) =>
      tab.waitForFunction(() => document.querySelector("div.sentinel")?.textContent !== "Loading…", { timeout: 5_000 });

    const firstUrl = (tab: Page) => tab.$eval("table.traces tbody tr td.url", (td) => td.textContent ?? "");

    test("a first page answered after a live row keeps that row: the list merges, it does not replace", T, async () => {
      const { tab, first } = await tabWithHeldPage();
      try {
        const body = await firstPageNow();
        const path = `/live/${marker("merged")}`;
        await (await fetch(`${proxy()}${path}`)).arrayBuffer();
        await tab.waitForFunction(
          (wanted) => document.querySelector("table.traces tbody tr td.url")?.textContent === wanted,
          { timeout: 5_000 },
          path,
        );
        // The page read before that request, handed over only now.
        await (await first()).respond({ status: 200, contentType: "application/json", body });
        await pageApplied(tab);
        const listed = (await rows(tab)).map((row) => row.url);
        assert.equal(listed[0], path, `the live row is still first: ${JSON.stringify(listed.slice(0, 3))}`);
        assert.equal(listed.filter((url) => url === path).length, 1);
        assert.ok(listed.includes("/json"), "and the page's rows are there");
      } finally {
        await tab.close();
      }
    });

    test(
      "a record published before the tab subscribed, missing from its first page, comes with the tail's backlog",
      T,
      async () => {
        // The page as read before the request: it cannot have the record, as a read can miss one not yet written.
        const stale = await firstPageNow();
        const path = `/live/${marker("backlog")}`;
        await (await fetch(`${proxy()}${path}`)).arrayBuffer();
        await until(
          "the record in the JSONL",
          () => exchanges(jsonl()).some((r) => r.type === "http" && r.request.url === path),
        );
        const { tab, first } = await tabWithHeldPage();
        try {
          await (await first()).respond({ status: 200, contentType: "application/json", body: stale });
          await pageApplied(tab);
          await tab.waitForFunction(
            (wanted) => document.querySelector("table.traces tbody tr td.url")?.textContent === wanted,
            { timeout: 5_000 },
            path,
          ).catch(async (error) => {
            throw new Error(`${path} is not first (${error}); first row: ${await firstUrl(tab).catch(() => "none")}`);
          });
          const listed = (await rows(tab)).map((row) => row.url);
          assert.equal(listed.filter((url) => url === path).length, 1);
          assert.ok(listed.includes("/json"));
        } finally {
          await tab.close();
        }
      },
    );

    test("the filter box narrows the list (~s 5xx) and shows a parse error with its column", T, async () => {
      await page.goto(`${ui()}#/`);
      await page.waitForSelector("#filter");
      await page.click("#filter");
      await page.type("#filter", "~s 5xx");
      await page.keyboard.press("Enter");
      await page.waitForFunction(
        () => {
          const statuses = [...document.querySelectorAll("table.traces tbody td.status")].map((td) => td.textContent);
          return statuses.length > 0 && statuses.every((status) => status?.startsWith("5"));
        },
        { timeout: 10_000 },
      );
      assert.deepEqual((await rows(page)).map((row) => row.url), ["/fail"]);

      await page.click("#filter", { clickCount: 3 });
      await page.type("#filter", "~s(");
      await page.keyboard.press("Enter");
      await page.waitForSelector("#filter-error", { timeout: 10_000 });
      const error = await page.$eval("#filter-error", (div) => div.textContent ?? "");
      assert.match(error, /Invalid filter at column \d+/);
      assert.match(error, /\^/, "a caret under the column");

      await page.click("#filter", { clickCount: 3 });
      await page.keyboard.press("Backspace");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.querySelectorAll("table.traces tbody tr").length >= 6);
    });

    test(
      "a JSON exchange: pretty, foldable body; redacted header; timing; custom record; plugin generation",
      T,
      async () => {
        await open("/json");
        const shown = await page.$eval("#detail", (main) => ({
          text: main.textContent ?? "",
          kinds: [...main.querySelectorAll(".body")].map((body) => body.getAttribute("data-kind")),
          folds: main.querySelectorAll(".body-json details").length,
          bars: main.querySelectorAll("#timing rect").length,
          generation: document.getElementById("plugin-generation")?.textContent,
        }));
        assert.deepEqual(shown.kinds, ["empty", "json"]);
        assert.ok(shown.folds >= 2, "objects fold");
        assert.match(shown.text, /"name": "ada"/);
        assert.match(shown.text, /"roles": /);
        assert.ok(!shown.text.includes(SECRET), "the redacted secret is not shown");
        assert.match(shown.text, /authorization/i);
        assert.equal(shown.bars, 3);
        assert.equal(shown.generation, "1");
        assert.match(shown.text, /Custom records \(1\)/);
        assert.match(shown.text, /plugin note/);

        await page.screenshot({ path: join(ARTIFACTS, `viewer-detail-${runtime}.png`), fullPage: true });
        // A fold closes on click.
        await page.click(".body-json details > summary");
        assert.equal(await page.$eval(".body-json details", (details) => (details as HTMLDetailsElement).open), false);

        await page.click("#copy-curl");
        const curl = await page.$eval("#curl-command", (pre) => pre.textContent ?? "");
        // The host is as captured (the redaction plugin's defaults hide IPv4 addresses even there).
        assert.match(curl, /^curl 'http:\/\/[^' ]+\/json' /);
        assert.match(curl, / -H 'Authorization: \[REDACTED\]'/);
      },
    );

    test("an event stream: its events with t_delta_ms, and a replay played in the page", T, async () => {
      await open("/events");
      await page.waitForSelector("#events");
      const events = await page.$$eval(
        "#events tbody tr.event",
        (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
      );
      assert.deepEqual(events.map((cells) => cells[3]), SSE_EVENTS);
      assert.deepEqual(events.map((cells) => cells[1]), ["tick", "tick", "tick"]);
      const deltas = events.map((cells) => Number(cells[0]));
      assert.ok(
        deltas.every((delta, i) => Number.isFinite(delta) && (i === 0 || delta >= deltas[i - 1]!)),
        `${deltas}`,
      );
      // The values shown are the captured ones (how far apart they are depends on the machine's load, so not asserted).
      const captured = readFileSync(jsonl(), "utf8").split("\n").slice(0, -1).filter((l) => l.includes('"sse_event"'))
        .map((line) => JSON.parse(line) as { t_delta_ms: number; data: string })
        .filter((event) => SSE_EVENTS.includes(event.data));
      assert.deepEqual(deltas, captured.map((event) => event.t_delta_ms));
      await page.select("#events select", "100");
      await page.click("#replay");
      await page.waitForFunction(() => document.querySelectorAll("#replayed li").length === 3, { timeout: 10_000 });
      const replayed = await page.$$eval("#replayed li", (items) => items.map((li) => li.textContent ?? ""));
      assert.deepEqual(
        replayed.map((line) => line.split(" · ").slice(1).join(" · ")),
        SSE_EVENTS.map((e) => `tick · ${e}`),
      );
    });

    test("a WebSocket exchange: frames both ways with opcodes, and the close code", T, async () => {
      await open("/ws");
      await page.waitForSelector("#frames");
      const frames = await page.$$eval("#frames tbody tr", (trs) =>
        trs.map((tr) => ({
          direction: tr.classList.contains("client_to_server") ? "out" : "in",
          opcode: tr.querySelector(".opcode")?.textContent ?? "",
          payload: tr.querySelector(".payload")?.textContent ?? "",
        })));
      assert.deepEqual(frames.slice(0, 3), [
        { direction: "out", opcode: "text (1)", payload: "hello" },
        { direction: "in", opcode: "text (1)", payload: "echo hello" },
        { direction: "out", opcode: "text (1)", payload: "bye" },
      ]);
      const close = frames.find((frame) => frame.opcode === "close (8)");
      assert.equal(close?.payload, `close ${WS_CLOSE.code} ${WS_CLOSE.reason}`);
    });

    test("a captured <script> body is shown as text and never runs", T, async () => {
      await open("/xss");
      const body = await page.$eval(".response .body pre", (pre) => pre.textContent ?? "");
      assert.equal(body, XSS_BODY);
      await sleep(300);
      assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
      assert.equal(await page.$$eval("#detail img, #detail script", (found) => found.length), 0);
      // The plugin's custom record holds markup too: text as well.
      assert.equal(await page.$$eval("#detail b", (found) => found.length), 0);
      assert.match(await page.$eval("#detail", (main) => main.textContent ?? ""), /<b>bold\?<\/b>/);
      assert.deepEqual(pageErrors, []);
    });

    test("Download HAR saves the filtered traces as a valid HAR 1.2 file", T, async () => {
      await page.goto(`${ui()}#/`);
      await page.waitForSelector("#filter");
      await page.click("#filter", { clickCount: 3 });
      await page.type("#filter", "~u /json | ~u /fail");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.querySelectorAll("table.traces tbody tr").length === 2);
      await page.click("#export-har");
      const file = await until("the HAR download", () => {
        const name = readdirSync(downloads).find((entry) => entry === "tapline.har");
        return name === undefined ? undefined : join(downloads, name);
      });
      const har = JSON.parse(
        await until("a complete HAR file", () => {
          const text = readFileSync(file, "utf8");
          try {
            JSON.parse(text);
            return text;
          } catch {
            return undefined;
          }
        }),
      ) as { log: { entries: { request: { url: string }; response: { status: number } }[] } };
      assert.ok(validateHar(har), JSON.stringify(validateHar.errors));
      assert.deepEqual(har.log.entries.map((entry) => new URL(entry.request.url).pathname).sort(), ["/fail", "/json"]);
      await page.click("#filter", { clickCount: 3 });
      await page.keyboard.press("Backspace");
      await page.keyboard.press("Enter");
    });

    test("binary, compressed and truncated bodies are flagged: hex preview, decoded, wire size", T, async () => {
      await fetch(`${proxy()}/gzip`).then((res) => res.arrayBuffer());
      await fetch(`${proxy()}/big`).then((res) => res.arrayBuffer());
      await until(
        "the gzip and big exchanges",
        () => exchanges(jsonl()).some((r) => r.type === "http" && r.request.url === "/big"),
      );
      await open("/bin");
      const binary = await page.$eval(".response .body", (body) => ({
        kind: body.getAttribute("data-kind"),
        hex: body.querySelector("pre.hex")?.textContent ?? "",
        download: body.querySelector("button")?.textContent,
      }));
      assert.equal(binary.kind, "binary");
      assert.ok(binary.hex.startsWith("00000000  89 50 4e 47 0d 0a 1a 0a 00 01 02 03 ff fe"), binary.hex);
      assert.equal(binary.download, "Download");
      assert.equal(BINARY_BODY.length, 14);

      await open("/gzip");
      const gzip = await page.$eval(".response .body", (body) => ({
        kind: body.getAttribute("data-kind"),
        flags: [...body.querySelectorAll(".flag")].map((flag) => flag.textContent),
        text: body.textContent ?? "",
      }));
      assert.equal(gzip.kind, "json");
      assert.deepEqual(gzip.flags, ["decoded"]);
      assert.match(gzip.text, /"compressed": true/);

      await open("/big");
      const big = await page.$eval(".response .body", (body) => ({
        kind: body.getAttribute("data-kind"),
        flags: [...body.querySelectorAll(".flag")].map((flag) => flag.textContent),
        length: body.querySelector("pre")?.textContent?.length ?? 0,
      }));
      assert.equal(big.kind, "text");
      assert.deepEqual(big.flags, [`truncated: ${(BIG_BODY.length / 1024).toFixed(0)} KiB on the wire`]);
      assert.equal(big.length, 64 * 1024);
    });

    test("scrolling to the end of the list loads older traces through the cursor, without duplicates", T, async () => {
      const many = 130;
      for (let i = 0; i < many; i += 10) {
        await Promise.all(
          Array.from({ length: 10 }, (_, j) => fetch(`${proxy()}/many/${i + j}`).then((res) => res.arrayBuffer())),
        );
      }
      await until(
        `${many} more exchanges`,
        () => exchanges(jsonl()).filter((r) => r.type === "http" && r.request.url.startsWith("/many/")).length === many,
      );
      await page.goto(`${ui()}#/`);
      await page.reload();
      await page.waitForFunction(() => document.querySelectorAll("table.traces tbody tr").length >= 100);
      await page.$eval(".sentinel", (end) => end.scrollIntoView());
      await page.waitForFunction((total) => document.querySelectorAll("table.traces tbody tr").length >= total, {
        timeout: 10_000,
      }, many + 8);
      const ids = (await rows(page)).map((row) => row.id);
      assert.equal(new Set(ids).size, ids.length, "no duplicates");
      const urls = (await rows(page)).map((row) => row.url).filter((url) => url.startsWith("/many/"));
      assert.equal(urls.length, many);
    });

    test("keys: j and k move, Enter opens, Escape goes back, / focuses the filter", T, async () => {
      await page.goto(`${ui()}#/`);
      await page.waitForFunction(() => document.querySelectorAll("table.traces tbody tr").length >= 6);
      await page.focus("body");
      for (const key of ["j", "j", "k"] as const) await page.keyboard.press(key);
      // One list on the page, however often it was left and entered before (no stale instance re-rendering).
      assert.equal(await page.$$eval("#app main", (mains) => mains.length), 1);
      const selected = await page.$eval("tr.selected", (tr) => tr.getAttribute("data-id"));
      const second = (await rows(page))[1]!.id;
      assert.equal(selected, second);
      await page.keyboard.press("Enter");
      await page.waitForSelector("#detail");
      assert.ok(page.url().endsWith(`#/trace/${encodeURIComponent(second)}`), page.url());
      await page.keyboard.press("Escape");
      await page.waitForSelector("table.traces");
      // The list's key handlers attach once it has rendered: press until the filter has the focus (2 s at most).
      const deadline = Date.now() + 2000;
      while ((await page.evaluate(() => document.activeElement?.id)) !== "filter" && Date.now() < deadline) {
        await page.keyboard.press("/");
        await sleep(50);
      }
      assert.equal(await page.evaluate(() => document.activeElement?.id), "filter");
      assert.equal(await page.$eval("#filter", (input) => (input as HTMLInputElement).value), "", "/ is not typed");
    });

    test(
      "the plugins page: generation and counters for read; apply a list with located errors for admin",
      T,
      async () => {
        await page.goto(`${ui()}#/plugins`);
        await page.waitForSelector("#generation");
        assert.equal(await page.$eval("#generation", (span) => span.textContent), "1");
        const plugins = await page.$$eval(
          ".plugin-table tbody tr",
          (trs) =>
            trs.map((tr) => ({ id: tr.getAttribute("data-plugin"), calls: Number(tr.children[3]?.textContent) })),
        );
        assert.deepEqual(
          plugins.map((plugin) => plugin.id),
          ["scrub", "note"],
        );
        assert.ok(plugins.every((plugin) => plugin.calls > 0), JSON.stringify(plugins));
        assert.equal(await page.$("#plugins-yaml"), null, "a read token cannot apply");

        await page.click(".bar button.quiet");
        await login(ADMIN_TOKEN);
        await page.goto(`${ui()}#/plugins`);
        await page.waitForSelector("#plugins-yaml");
        await page.type("#plugins-yaml", "plugins:\n  - id: scrub\n    use: redaction\n    config: { nonsense: 1 }\n");
        await page.click("#plugins-yaml + button");
        await page.waitForSelector("#problems", { timeout: 10_000 });
        const problems = await page.$eval("#problems", (ul) => ul.textContent ?? "");
        assert.match(problems, /nonsense/);
        assert.equal(await page.$eval("#generation", (span) => span.textContent), "1", "nothing applied");

        await page.click("#plugins-yaml", { clickCount: 3 });
        await page.$eval("#plugins-yaml", (area) => ((area as HTMLTextAreaElement).value = ""));
        await page.type(
          "#plugins-yaml",
          "plugins:\n  - id: scrub\n    use: redaction\n    config: { headers: [authorization] }\n",
        );
        await page.click("#plugins-yaml + button");
        await page.waitForFunction(() => document.getElementById("generation")?.textContent === "2", {
          timeout: 10_000,
        });
        await page.waitForFunction(
          () => /Applied: generation 2/.test(document.getElementById("plugins-message")?.textContent ?? ""),
          { timeout: 5_000 },
        );

        // A pack: uploaded through the page (checked and installed by the API), then removed.
        const input = await page.$("#pack-file");
        await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(pack.tgz);
        await page.click("#pack-upload");
        await page.waitForFunction(
          () => /^Installed: viewer-pack@/.test(document.getElementById("plugins-message")?.textContent ?? ""),
          {
            timeout: 30_000,
          },
        );
        const row = await page.waitForSelector("tr[data-pack^='viewer-pack@']", { timeout: 10_000 });
        const installed = await row!.evaluate((tr) => tr.getAttribute("data-pack") ?? "");
        await page.click(`tr[data-pack='${installed}'] button`);
        await page.waitForFunction(
          (id) => document.getElementById("plugins-message")?.textContent === `Removed ${id}`,
          { timeout: 10_000 },
          installed,
        );
        await page.waitForFunction(
          (id) => !document.querySelector(`tr[data-pack='${id}']`),
          { timeout: 5_000 },
          installed,
        );
      },
    );

    test("the page asked for nothing but the admin port (no CDN, no other origin)", T, () => {
      const origin = `http://127.0.0.1:${tap!.adminPort()}/`;
      assert.ok(requested.length > 20, `${requested.length} requests`);
      const elsewhere = requested.filter((url) => !url.startsWith(origin) && !/^(data|blob):/.test(url));
      assert.deepEqual(elsewhere, []);
    });

    test("phone width: no sideways scrolling; dark mode follows prefers-color-scheme", T, async () => {
      await page.setViewport({ width: 390, height: 844 });
      await page.goto(`${ui()}#/`);
      await page.waitForFunction(() => document.querySelectorAll("table.traces tbody tr").length >= 6);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - globalThis.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
      // Time, URL, status and duration fit; the other columns are hidden at this width.
      const cells = await page.$$eval(
        "table.traces tbody tr:first-child td",
        (tds) =>
          tds.filter((td) => td.getBoundingClientRect().width > 0).map((td) => ({
            name: td.className,
            right: td.getBoundingClientRect().right,
          })),
      );
      assert.deepEqual(cells.map((cell) => cell.name.split(" ")[0]), ["time", "url", "status", "num"]);
      assert.ok(cells.every((cell) => cell.right <= 390), JSON.stringify(cells));
      await page.screenshot({ path: join(ARTIFACTS, `viewer-phone-${runtime}.png`) });
      const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
      const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.notEqual(dark, light);
      await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
      await page.setViewport({ width: 1280, height: 800 });
    });
  });
}
