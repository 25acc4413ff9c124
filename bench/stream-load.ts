/**
 * The streaming benchmark's load generator, one process per measured
 * scenario (run on the load core next to the upstream):
 *
 * - `--kind ws`: `--connections` WebSocket connections each keep `--window`
 *   messages of `--size` bytes in flight and send the next one as each echo
 *   arrives (window 1 = closed loop). Counts echoed messages (round trips).
 * - `--kind sse`: `--connections` concurrent `GET /sse` streams read as fast
 *   as they arrive (raw TCP, no HTTP parser). Counts events.
 * - `--kind check`: one text and one binary echo and one short SSE stream,
 *   verified byte for byte; exits 1 with a message if anything differs.
 *
 * Progress is printed as JSON lines on stdout: `{"event":"warmed"}` after the
 * warm-up, `{"event":"measuring"}` when the measured window starts and
 * `{"event":"result",...}` (a `LoadResult`) when it ends. With `--wait-go`
 * the process waits for SIGUSR2 between warm-up and measurement, so the
 * harness can let a capturing proxy drain the warm-up's records first.
 *
 * Usage: node dist/bench/stream-load.js --kind ws|sse|check --port 18380
 *   [--connections 16] [--window 1] [--size 100] [--binary]
 *   [--warmup 2] [--duration 6] [--wait-go]
 */
import { request } from "node:http";
import { createConnection, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { SSE_EVENT_BYTES, sseEvent } from "./stream-upstream.ts";

/** What one measured window produced. */
export interface LoadResult {
  event: "result";
  /** Echoed WebSocket messages or received SSE events inside the window. */
  messages: number;
  /** Payload bytes received by the client inside the window. */
  bytes: number;
  seconds: number;
  /** Wall-clock bounds of the window (ms since epoch), to match record timestamps. */
  startMs: number;
  endMs: number;
  /** Round-trip percentiles (WebSocket only), in microseconds. */
  p50us?: number;
  p99us?: number;
  /** Echoes of the wrong size, connection errors, unexpected closes. */
  errors: number;
}

/** Round-trip times in 1 µs buckets up to 1 s (the last bucket holds anything longer). */
class Histogram {
  readonly #counts = new Uint32Array(1_000_001);
  #total = 0;
  add(us: number): void {
    this.#counts[Math.min(this.#counts.length - 1, Math.max(0, Math.round(us)))]!++;
    this.#total++;
  }
  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
  }
  percentile(p: number): number | undefined {
    if (this.#total === 0) return undefined;
    const rank = Math.ceil(this.#total * p);
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return i;
    }
    return this.#counts.length - 1;
  }
}

function emit(line: object): void {
  process.stdout.write(JSON.stringify(line) + "\n");
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Shared counters of the running load; reset at the start of the measured window. */
const stats = { messages: 0, bytes: 0, errors: 0, hist: new Histogram() };

/** One WebSocket connection keeping `window` messages in flight while `running`. */
class EchoLoop {
  readonly #ws: WebSocket;
  readonly #payload: Buffer;
  readonly #binary: boolean;
  readonly #window: number;
  /** Send times of the messages in flight, oldest first (echoes come back in order). */
  readonly #sent: Float64Array;
  #head = 0;
  #tail = 0;
  #inFlight = 0;
  #running = false;
  #idle: (() => void) | undefined;

  constructor(ws: WebSocket, payload: Buffer, binary: boolean, window: number) {
    this.#ws = ws;
    this.#payload = payload;
    this.#binary = binary;
    this.#window = window;
    this.#sent = new Float64Array(window);
    ws.on("message", (data: Buffer) => this.#onEcho(data));
    ws.on("close", () => {
      if (this.#running) stats.errors++;
      this.#running = false;
      this.#idle?.();
    });
    ws.on("error", () => stats.errors++);
  }

  start(): void {
    this.#running = true;
    while (this.#inFlight < this.#window && this.#ws.readyState === WebSocket.OPEN) this.#send();
  }

  /** Stop sending; resolves when every message in flight has come back (or after `ms`). */
  stop(ms: number): Promise<void> {
    this.#running = false;
    if (this.#inFlight === 0) return Promise.resolve();
    return Promise.race([new Promise<void>((resolve) => (this.#idle = resolve)), sleep(ms)]);
  }

  close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#ws.once("close", () => resolve());
      this.#ws.close(1000, "done");
      setTimeout(() => {
        this.#ws.terminate();
        resolve();
      }, 2000).unref();
    });
  }

  #send(): void {
    this.#sent[this.#head] = performance.now();
    this.#head = (this.#head + 1) % this.#window;
    this.#inFlight++;
    this.#ws.send(this.#payload, { binary: this.#binary });
  }

  #onEcho(data: Buffer): void {
    const sentAt = this.#sent[this.#tail]!;
    this.#tail = (this.#tail + 1) % this.#window;
    this.#inFlight--;
    stats.hist.add((performance.now() - sentAt) * 1000);
    stats.messages++;
    stats.bytes += data.length;
    if (data.length !== this.#payload.length) stats.errors++;
    if (this.#running) this.#send();
    else if (this.#inFlight === 0) this.#idle?.();
  }
}

function connectWs(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      maxPayload: 64 * 1024 * 1024,
      // An all-zero masking key lets ws skip XOR-ing every payload on the load core; the
      // proxy under test still unmasks (ws always does) and masks its own frames upstream.
      generateMask: (mask: Buffer) => void mask.fill(0),
    });
    ws.once("open", () => resolve(ws));
    ws.once("error", (err) => reject(new Error(`WebSocket to 127.0.0.1:${port} failed: ${err.message}`)));
    ws.once("unexpected-response", (_req, res) => {
      reject(new Error(`WebSocket to 127.0.0.1:${port} was answered with HTTP ${res.statusCode}`));
    });
  });
}

/** ~`size` bytes of JSON-looking ASCII text, or random bytes for binary messages. */
function payloadOf(size: number, binary: boolean): Buffer {
  if (binary) return randomBytes(size);
  const head = '{"type":"message","text":"';
  return Buffer.from((head + "m".repeat(Math.max(0, size - head.length - 2)) + '"}').slice(0, size));
}

const NLNL = Buffer.from("\n\n");

/**
 * One endless SSE stream over a raw TCP socket: events are counted by their
 * blank-line ends in the bytes as they arrive, so the client's cost does not
 * depend on how the server (or a proxy) cuts the body into HTTP chunks.
 */
class SseStream {
  readonly #socket: Socket;
  readonly ready: Promise<void>;
  #head = "";
  #inBody = false;
  #lastNl = false;

  constructor(port: number) {
    this.#socket = createConnection({ host: "127.0.0.1", port });
    this.#socket.setNoDelay(true);
    this.#socket.write(`GET /sse HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`);
    this.ready = new Promise((resolve, reject) => {
      this.#socket.once(
        "error",
        (err) => reject(new Error(`SSE stream from 127.0.0.1:${port} failed: ${err.message}`)),
      );
      this.#socket.on("close", () => {
        if (this.#inBody) stats.errors++;
        reject(new Error(`SSE stream from 127.0.0.1:${port} closed early`));
      });
      this.#socket.on("data", (chunk: Buffer) => {
        if (this.#inBody) return this.#count(chunk, 0);
        this.#head += chunk.toString("latin1");
        const end = this.#head.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = this.#head.slice(0, end);
        if (!/^HTTP\/1\.1 200 /.test(head) || !/\r\ncontent-type: *text\/event-stream/i.test(head)) {
          reject(new Error(`SSE stream answered with: ${head.split("\r\n")[0]}`));
          this.#socket.destroy();
          return;
        }
        this.#inBody = true;
        // The head was read as latin1, so string offsets are byte offsets.
        const bodyStart = chunk.length - (this.#head.length - end - 4);
        this.#count(chunk, bodyStart);
        resolve();
      });
    });
    this.ready.catch(() => {});
  }

  #count(chunk: Buffer, from: number): void {
    if (from >= chunk.length) return;
    let events = 0;
    if (this.#lastNl && chunk[from] === 10) events++;
    for (let i = chunk.indexOf(NLNL, from); i >= 0; i = chunk.indexOf(NLNL, i + 2)) events++;
    this.#lastNl = chunk[chunk.length - 1] === 10;
    stats.messages += events;
    stats.bytes += events * SSE_EVENT_BYTES;
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  close(): void {
    this.#socket.removeAllListeners("close");
    this.#socket.destroy();
  }
}

interface Options {
  kind: string;
  port: number;
  connections: number;
  window: number;
  size: number;
  binary: boolean;
  warmup: number;
  duration: number;
  waitGo: boolean;
}

/** Warm up, optionally wait for SIGUSR2, then measure `duration` seconds. */
async function phases(
  opts: Options,
  start: () => void,
  stop: () => Promise<void>,
): Promise<LoadResult> {
  const go = opts.waitGo ? new Promise<void>((resolve) => process.once("SIGUSR2", () => resolve())) : undefined;
  if (opts.warmup > 0) {
    start();
    await sleep(opts.warmup * 1000);
    await stop();
  }
  emit({ event: "warmed" });
  if (go) {
    // A signal listener does not keep the event loop alive, and paused SSE sockets do not either.
    const keepAlive = setInterval(() => {}, 60_000);
    await go;
    clearInterval(keepAlive);
  }
  stats.messages = 0;
  stats.bytes = 0;
  stats.errors = 0;
  stats.hist.reset();
  const startMs = Date.now();
  const t0 = performance.now();
  emit({ event: "measuring", startMs });
  start();
  await sleep(opts.duration * 1000);
  const seconds = (performance.now() - t0) / 1000;
  const result: LoadResult = {
    event: "result",
    messages: stats.messages,
    bytes: stats.bytes,
    seconds,
    startMs,
    endMs: Date.now(),
    errors: stats.errors,
  };
  const p50 = stats.hist.percentile(0.5);
  const p99 = stats.hist.percentile(0.99);
  if (p50 !== undefined) result.p50us = p50;
  if (p99 !== undefined) result.p99us = p99;
  return result;
}

async function runWs(opts: Options): Promise<LoadResult> {
  const payload = payloadOf(opts.size, opts.binary);
  const sockets = await Promise.all(Array.from({ length: opts.connections }, () => connectWs(opts.port)));
  const loops = sockets.map((ws) => new EchoLoop(ws, payload, opts.binary, opts.window));
  const result = await phases(
    opts,
    () => loops.forEach((l) => l.start()),
    async () => void await Promise.all(loops.map((l) => l.stop(5000))),
  );
  emit(result);
  await Promise.all(loops.map((l) => l.stop(2000)));
  await Promise.all(loops.map((l) => l.close()));
  return result;
}

async function runSse(opts: Options): Promise<LoadResult> {
  const streams = Array.from({ length: opts.connections }, () => new SseStream(opts.port));
  await Promise.all(streams.map((s) => s.ready));
  // Streams start flowing at once; pausing them holds the upstream back (backpressure) between phases.
  streams.forEach((s) => s.pause());
  const result = await phases(
    opts,
    () => streams.forEach((s) => s.resume()),
    () => {
      streams.forEach((s) => s.pause());
      return Promise.resolve();
    },
  );
  emit(result);
  streams.forEach((s) => s.close());
  return result;
}

/** One verified echo of each kind and a short SSE stream: a broken relay fails here, clearly. */
async function check(port: number): Promise<void> {
  const ws = await connectWs(port);
  for (const [payload, binary] of [[payloadOf(100, false), false], [payloadOf(70_000, true), true]] as const) {
    const echo = await new Promise<{ data: Buffer; isBinary: boolean }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("No WebSocket echo within 5 s")), 5000);
      ws.once("message", (data: Buffer, isBinary: boolean) => {
        clearTimeout(timer);
        resolve({ data, isBinary });
      });
      ws.send(payload, { binary });
    });
    if (echo.isBinary !== binary || !echo.data.equals(payload)) {
      throw new Error(
        `WebSocket echo differs: sent ${payload.length} ${binary ? "binary" : "text"} bytes, got ${echo.data.length} ${
          echo.isBinary ? "binary" : "text"
        }`,
      );
    }
  }
  await new Promise<void>((resolve) => {
    ws.once("close", () => resolve());
    ws.close(1000, "check done");
  });
  const count = 50;
  const body = await new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: `/sse?count=${count}`, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers["content-type"]),
          text: Buffer.concat(chunks).toString(),
        }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("SSE check timed out after 5 s")));
    req.end();
  });
  const expected = Array.from({ length: count }, (_, i) => sseEvent(i)).join("");
  if (body.status !== 200 || !body.type.startsWith("text/event-stream") || body.text !== expected) {
    throw new Error(
      `SSE check failed: status ${body.status}, content-type ${body.type}, ${body.text.length} bytes (expected ${expected.length})`,
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kind: { type: "string", default: "ws" },
      port: { type: "string", default: "18380" },
      connections: { type: "string", default: "16" },
      window: { type: "string", default: "1" },
      size: { type: "string", default: "100" },
      binary: { type: "boolean", default: false },
      warmup: { type: "string", default: "2" },
      duration: { type: "string", default: "6" },
      "wait-go": { type: "boolean", default: false },
    },
  });
  const opts: Options = {
    kind: values.kind,
    port: Number(values.port),
    connections: Number(values.connections),
    window: Math.max(1, Number(values.window)),
    size: Number(values.size),
    binary: values.binary,
    warmup: Number(values.warmup),
    duration: Number(values.duration),
    waitGo: values["wait-go"],
  };
  if (opts.kind === "check") await check(opts.port);
  else if (opts.kind === "ws") await runWs(opts);
  else if (opts.kind === "sse") await runSse(opts);
  else throw new Error(`Unknown --kind "${opts.kind}": expected ws, sse or check`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
