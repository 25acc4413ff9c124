/**
 * The floor for tapline on Bun: `Bun.serve` and `fetch`, forwarding each
 * request and nothing else (no capture, no hooks, no header checks). The
 * benchmark's `bun-minimal` target, to compare with tapline on Bun in the
 * same run.
 *
 * Usage: bun bench/minimal-bun-proxy.ts PORT UPSTREAM_ORIGIN
 */
/** The part of Bun's API this script uses (the project has no Bun type package). */
interface MinimalBun {
  argv: string[];
  serve(options: { hostname: string; port: number; fetch(request: Request): Promise<Response> }): unknown;
}
const Bun = (globalThis as unknown as { Bun: MinimalBun }).Bun;

const [portText, upstream] = Bun.argv.slice(2);
if (portText === undefined || upstream === undefined) {
  console.error("usage: bun bench/minimal-bun-proxy.ts PORT UPSTREAM_ORIGIN");
  process.exit(64);
}

Bun.serve({
  hostname: "127.0.0.1",
  port: Number(portText),
  fetch(request) {
    const url = request.url;
    const target = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    return fetch(upstream + target, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      decompress: false,
    } as RequestInit);
  },
});
// Exit normally on SIGTERM, so `bun --cpu-prof` writes its profile (bench/profile.ts).
process.on("SIGTERM", () => process.exit(0));
console.log("ready");
