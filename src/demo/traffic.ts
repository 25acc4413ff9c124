/**
 * `tapline demo --traffic`: a realistic mix sent through the proxy by the
 * demo itself — JSON reads and writes, a secret in a header, gzip, errors,
 * binary, a slow call, a streamed chat completion and a WebSocket exchange —
 * at a steady rate, with a bound on how many are in flight.
 */
import WebSocket from "ws";

/** One kind of exchange the generator sends. */
interface Scenario {
  name: string;
  run(base: string, signal: AbortSignal): Promise<void>;
}

/** A token shaped like an API key, so the redaction plugin has something to hide. */
export const DEMO_SECRET = "sk-demo-0123456789abcdefghijklmnop";

const CHAT_BODY = (stream: boolean) =>
  JSON.stringify({
    model: "demo-1",
    stream,
    messages: [{ role: "user", content: stream ? "Stream me a short answer" : "Say hello" }],
  });

/** Names the sender in every record, so demo traffic is told apart from a user's curl. */
const USER_AGENT = { "user-agent": "tapline-demo-traffic" };

/** Reads a response to its end, so the exchange completes and is captured whole. */
async function drain(response: Response): Promise<void> {
  await response.arrayBuffer();
}

const get = (path: string, headers: Record<string, string> = {}): Scenario => ({
  name: `GET ${path}`,
  run: async (base, signal) => drain(await fetch(base + path, { headers: { ...USER_AGENT, ...headers }, signal })),
});

const post = (path: string, body: string): Scenario => ({
  name: `POST ${path}`,
  run: async (base, signal) =>
    drain(
      await fetch(base + path, {
        method: "POST",
        headers: { ...USER_AGENT, "content-type": "application/json" },
        body,
        signal,
      }),
    ),
});

const webSocketExchange: Scenario = {
  name: "WebSocket /ws",
  run: (base, signal) =>
    new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(base.replace(/^http/, "ws") + "/ws", { headers: USER_AGENT });
      const replies: string[] = [];
      const stop = () => socket.terminate();
      signal.addEventListener("abort", stop, { once: true });
      socket.on("open", () => {
        socket.send("hello through tapline");
        socket.send(JSON.stringify({ type: "subscribe", channel: "orders" }));
      });
      socket.on("message", (data) => {
        replies.push(String(data));
        if (replies.length === 2) socket.close(1000, "done");
      });
      socket.on("close", () => {
        signal.removeEventListener("abort", stop);
        resolve();
      });
      socket.on("error", reject);
    }),
};

/** The mix, in the order it is sent; the stream and the WebSocket come early so a short run shows them. */
export const SCENARIOS: readonly Scenario[] = [
  get("/api/users"),
  post("/v1/chat/completions", CHAT_BODY(true)),
  get("/api/users/2", { authorization: `Bearer ${DEMO_SECRET}` }),
  webSocketExchange,
  post("/api/orders", JSON.stringify({ item: "coffee beans", quantity: 2, email: "buyer@example.com" })),
  get("/gzip", { "accept-encoding": "gzip" }),
  get("/api/users/999"),
  get("/status/503"),
  get("/binary"),
  get("/slow?ms=300"),
  post("/v1/chat/completions", CHAT_BODY(false)),
  get("/"),
];

/** At most this many exchanges in flight; a tick that finds them all busy is skipped. */
const MAX_IN_FLIGHT = 32;

/** A running generator. */
export interface TrafficGenerator {
  /** Exchanges started, and those that failed on the client side (a refused connection, a reset). */
  readonly stats: { started: number; failed: number; skipped: number };
  /** Stops sending and waits (at most `graceMs`) for the exchanges in flight. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Sends `ratePerSecond` exchanges a second to `base` (the proxy's URL), cycling through {@link SCENARIOS}.
 *
 * @example const traffic = startTraffic("http://127.0.0.1:8080", 2); ... await traffic.stop(2000);
 */
export function startTraffic(base: string, ratePerSecond: number): TrafficGenerator {
  const stats = { started: 0, failed: 0, skipped: 0 };
  const controller = new AbortController();
  const inFlight = new Set<Promise<void>>();
  let next = 0;
  const tick = () => {
    if (inFlight.size >= MAX_IN_FLIGHT) {
      stats.skipped++;
      return;
    }
    const scenario = SCENARIOS[next++ % SCENARIOS.length]!;
    stats.started++;
    const running: Promise<void> = scenario.run(base, controller.signal)
      .catch(() => void (controller.signal.aborted || stats.failed++))
      .finally(() => inFlight.delete(running));
    inFlight.add(running);
  };
  tick();
  const timer = setInterval(tick, 1000 / ratePerSecond);
  return {
    stats,
    async stop(graceMs) {
      clearInterval(timer);
      let deadline: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((resolve) => (deadline = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(deadline);
      controller.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}
