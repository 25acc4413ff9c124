/**
 * The things the benchmark measures: the upstream itself (`direct`), nginx
 * as a reverse proxy, tapline on each runtime with JSONL capture on, and the
 * floor for Bun (`bun-minimal`: Bun.serve + fetch, bench/minimal-bun-proxy.ts).
 */
import { join } from "node:path";
import { proxyConfig } from "./nginx.ts";
import { type Service, startService, waitListening } from "./procs.ts";

export const TARGET_NAMES = ["direct", "nginx", "node", "deno", "bun", "bun-minimal"] as const;
/** What runs when `--targets` is not given (`bun-minimal` is asked for by name). */
export const DEFAULT_TARGETS: readonly TargetName[] = ["direct", "nginx", "node", "deno", "bun"];
export type TargetName = (typeof TARGET_NAMES)[number];

/** Where a target runs and how to reach it. */
export interface TargetContext {
  /** Repository root (commands run from here). */
  root: string;
  /** Scratch directory for this target (nginx prefix, JSONL logs). */
  dir: string;
  /** Port the proxy under test listens on. */
  port: number;
  upstreamPort: number;
  /** taskset CPU list for the proxy, undefined for unpinned. */
  core: string | undefined;
  /** false drops `log_jsonl` from the tapline spec, measuring forwarding alone. */
  capture: boolean;
  /** Also capture to SQLite (`log_sqlite`) next to JSONL. */
  sqlite?: boolean;
  /** `false`: the proxy answers HTTP/1.1 only (`http2=off`). */
  http2?: boolean;
  /** Extra tapline flags, e.g. `["--max-body-size", "64KB"]`. */
  taplineArgs: string[];
}

/** A running target: the port to load and, for proxies, the process to watch. */
export interface RunningTarget {
  port: number;
  service?: Service;
  /** Directory the proxy writes JSONL into, if it captures. */
  logDir?: string;
}

/** Start `name` and resolve once it accepts connections. */
export async function startTarget(name: TargetName, ctx: TargetContext): Promise<RunningTarget> {
  if (name === "direct") return { port: ctx.upstreamPort };
  if (name === "nginx") {
    const inst = proxyConfig(join(ctx.dir, "nginx"), ctx.port, ctx.upstreamPort);
    const service = startService("nginx proxy", "nginx", inst.args, { core: ctx.core });
    await waitListening(service, ctx.port, 10_000);
    return { port: ctx.port, service };
  }
  if (name === "bun-minimal") {
    const bun = join(ctx.root, "node_modules/.bin/bun");
    const script = join(ctx.root, "bench/minimal-bun-proxy.ts");
    const service = startService("minimal Bun proxy", bun, [
      script,
      String(ctx.port),
      `http://127.0.0.1:${ctx.upstreamPort}`,
    ], {
      core: ctx.core,
      cwd: ctx.root,
    });
    await waitListening(service, ctx.port, 10_000);
    return { port: ctx.port, service };
  }
  const logDir = join(ctx.dir, "logs");
  const spec = `name=bench,listen_http=127.0.0.1:${ctx.port},upstream=http://127.0.0.1:${ctx.upstreamPort}` +
    (ctx.capture ? `,log_jsonl=${logDir}/` : "") + (ctx.capture && ctx.sqlite ? `,log_sqlite=${logDir}/` : "") +
    (ctx.http2 === false ? ",http2=off" : "");
  const [cmd, args] = taplineCommand(name, ctx.root, spec);
  const service = startService(`tapline (${name})`, cmd, [...args, ...ctx.taplineArgs], {
    core: ctx.core,
    cwd: ctx.root,
  });
  await service.waitFor(`"msg":"ready"`, 60_000);
  await waitListening(service, ctx.port, 10_000);
  return ctx.capture ? { port: ctx.port, service, logDir } : { port: ctx.port, service };
}

/** The command line that runs tapline under `runtime`, as bench/README.md documents. */
export function taplineCommand(
  runtime: "node" | "deno" | "bun",
  root: string,
  spec: string,
  extraNodeFlags: string[] = [],
): [string, string[]] {
  switch (runtime) {
    case "node":
      return [process.execPath, [...extraNodeFlags, join(root, "bin/tapline.js"), "--proxy", spec]];
    case "deno":
      return [join(root, "node_modules/.bin/deno"), ["run", "-A", join(root, "src/cli/main.ts"), "--proxy", spec]];
    case "bun":
      return [join(root, "node_modules/.bin/bun"), [join(root, "src/cli/main.ts"), "--proxy", spec]];
  }
}
