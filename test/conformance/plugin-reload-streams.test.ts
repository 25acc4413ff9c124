/**
 * A WebSocket and an event stream opened before a plugin reload keep the
 * plugins they began with to their end; new ones get the new set; the old
 * set is freed when the last of them closes.
 */
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import WebSocket, { WebSocketServer } from "ws";
import { request } from "./harness/client.ts";
import { sleep, tearDown, tempDir } from "./harness/fixture.ts";
import { adminArgs, adminToken, metric, metricsText, writeConfig, writePlugins } from "./harness/plugin-config.ts";
import { runtimes } from "./harness/runtimes.ts";
import { startTapline, type Tapline } from "./harness/tapline.ts";

/** A plugin appending `|<set>` to every event and WebSocket text message it sees. */
const marker = (set: string) =>
  `export const manifest = { name: "mark-${set}", version: "1.0.0", description: "marks", hooks: ["onSseEvent", "onWsMessage"] };\n` +
  `export function onSseEvent(e) { return { ...e, data: e.data + "|${set}" }; }\n` +
  `export function onWsMessage(m) { return m.data + "|${set}"; }\n`;

/** An upstream with a WebSocket echo and event streams the test writes to. */
class StreamUpstream {
  readonly server: Server;
  readonly streams: ServerResponse[] = [];
  readonly #ws: WebSocketServer;

  constructor() {
    this.server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write(": open\n\n");
      this.streams.push(res);
    });
    this.#ws = new WebSocketServer({ server: this.server });
    this.#ws.on("connection", (socket) => socket.on("message", (data) => socket.send(data.toString())));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }

  async close(): Promise<void> {
    for (const stream of this.streams) stream.end();
    for (const client of this.#ws.clients) client.terminate();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** An event stream read through tapline: `next()` resolves with the data of the next event. */
function openStream(url: string): Promise<{ next(): Promise<string>; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, (res) => {
      let buffer = "";
      const events: string[] = [];
      const waiting: Array<(data: string) => void> = [];
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((line) => line.startsWith("data: ")).map((line) => line.slice(6));
          if (data.length === 0) continue;
          const waiter = waiting.shift();
          if (waiter) waiter(data.join("\n"));
          else events.push(data.join("\n"));
        }
      });
      resolve({
        next: () => {
          const ready = events.shift();
          if (ready !== undefined) return Promise.resolve(ready);
          return new Promise((done, fail) => {
            const timer = setTimeout(() => fail(new Error("No event within 5 s")), 5_000);
            waiting.push((data) => {
              clearTimeout(timer);
              done(data);
            });
          });
        },
        close: () => req.destroy(),
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/** A WebSocket through tapline: `say(text)` resolves with the echo. */
async function openSocket(url: string): Promise<{ say(text: string): Promise<string>; close(): Promise<void> }> {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  return {
    say: (text) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("No echo within 5 s")), 5_000);
        socket.once("message", (data) => {
          clearTimeout(timer);
          resolve(data.toString());
        });
        socket.send(text);
      }),
    close: () =>
      new Promise((resolve) => {
        socket.once("close", () => resolve());
        socket.close(1000);
      }),
  };
}

for (const runtime of runtimes) {
  describe(`${runtime}: streams keep their plugin set across a reload`, { timeout: 120_000 }, () => {
    const up = new StreamUpstream();
    let tap: Tapline;
    let dir: string;
    const put = (use: string) =>
      request(`http://127.0.0.1:${tap.adminPort()}/api/plugins`, {
        method: "PUT",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${adminToken(dir)}`,
        },
        body: JSON.stringify({ plugins: [{ id: "mark", use }] }),
        timeoutMs: 20_000,
      });

    before(async () => {
      await up.listen();
      dir = tempDir();
      writePlugins(dir, { "mark-a.js": marker("a"), "mark-b.js": marker("b") });
      const config = writeConfig(dir, "tapline.yaml", { plugins: [{ id: "mark", use: "./mark-a.js" }] });
      tap = await startTapline(runtime, [
        "--config",
        config,
        ...adminArgs(dir),
        "--proxy",
        `name=live,listen_http=127.0.0.1:0,upstream=${up.url}`,
      ], { cwd: dir });
    });

    after(() => tearDown(tap, [up], dir));

    test(
      "old streams keep set a, new ones get set b, set a is freed after they close",
      { timeout: 60_000 },
      async () => {
        const oldStream = await openStream(tap.url("live", "/events"));
        const oldSocket = await openSocket(tap.url("live", "/ws").replace("http:", "ws:"));
        await sleep(100);
        up.streams[0]!.write("data: one\n\n");
        assert.equal(await oldStream.next(), "one|a");
        assert.equal(await oldSocket.say("hi"), "hi|a|a", "both directions ran set a");

        const reloaded = await put("./mark-b.js");
        assert.equal(reloaded.status, 200, reloaded.body.toString("utf8"));

        up.streams[0]!.write("data: two\n\n");
        assert.equal(await oldStream.next(), "two|a", "the stream opened before the reload keeps set a");
        assert.equal(await oldSocket.say("again"), "again|a|a", "so does the WebSocket");

        const newStream = await openStream(tap.url("live", "/events"));
        const newSocket = await openSocket(tap.url("live", "/ws").replace("http:", "ws:"));
        await sleep(100);
        up.streams[1]!.write("data: three\n\n");
        assert.equal(await newStream.next(), "three|b");
        assert.equal(await newSocket.say("new"), "new|b|b");
        assert.equal(metric(await metricsText(tap), "tapline_plugin_generations_live"), 2, "set a lives on");

        oldStream.close();
        up.streams[0]!.end();
        await oldSocket.close();
        let live = 2;
        for (let i = 0; i < 50 && live !== 1; i++) {
          await sleep(100);
          live = metric(await metricsText(tap), "tapline_plugin_generations_live") ?? -1;
        }
        assert.equal(live, 1, "set a is freed once its streams have closed");
        up.streams[1]!.write("data: four\n\n");
        assert.equal(await newStream.next(), "four|b");
        newStream.close();
        up.streams[1]!.end();
        await newSocket.close();
      },
    );
  });
}
