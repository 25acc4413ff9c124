/**
 * `tapline demo`: the whole job on a fresh machine with nothing else running.
 * One process starts a demo upstream, tapline in front of it with the
 * quickstart's plugins, JSONL and SQLite capture into a data directory and
 * the admin port with the viewer; it prints what to try, and with
 * `--traffic` sends a realistic mix itself and prints each captured record
 * as it is written (the `tapline tail` table). Everything listens on
 * loopback only.
 */
import { parseDuration } from "../config/duration.ts";
import { parseListen } from "../config/listen.ts";
import { resolveCommandLine } from "../config/load.ts";
import type { DemoUpstream } from "../demo/upstream.ts";
import type { Runtime } from "../runtime/types.ts";
import { onShutdownSignal } from "../runtime/shutdown-signals.ts";
import { describeError } from "../shared/describe-error.ts";
import { ListenFailedError, UsageError } from "../shared/errors.ts";
import { createLogger } from "../shared/logger.ts";
import type { CaptureRecord } from "../shared/record.ts";
import { parseCommandArgs } from "./command-args.ts";
import { clientToken } from "./client-token.ts";
import { listenFailed, startTapline } from "./run.ts";
import { followTail, TAIL_HEADER, tailRow } from "./tail-command.ts";

export const DEMO_USAGE = "tapline demo [--traffic [RATE]] [--duration D] [--listen ADDR] [--upstream-listen ADDR] " +
  "[--listen-admin ADDR] [--data-dir DIR] [--json]";

const DEFAULTS = { listen: "127.0.0.1:8080", "upstream-listen": "127.0.0.1:3000", "listen-admin": "127.0.0.1:9090" };
/** Requests a second when `--traffic` comes without a rate. */
const DEFAULT_RATE = 2;
const MAX_RATE = 1000;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

/** The demo's options, checked. */
interface DemoOptions {
  listen: string;
  upstreamListen: string;
  listenAdmin: string;
  dataDir: string | undefined;
  rate: number | undefined;
  durationMs: number | undefined;
  json: boolean;
}

function parseDemoArgs(argv: readonly string[]): DemoOptions {
  const { flags, positional } = parseCommandArgs(argv, {
    traffic: "optional",
    duration: "string",
    listen: "string",
    "upstream-listen": "string",
    "listen-admin": "string",
    "data-dir": "string",
    json: "boolean",
  }, DEMO_USAGE);
  if (positional.length > 0) throw new UsageError(`Unexpected argument "${positional[0]}". Usage: ${DEMO_USAGE}`);
  const address = (flag: keyof typeof DEFAULTS): string => {
    const text = typeof flags[flag] === "string" ? flags[flag] : DEFAULTS[flag];
    let host: string;
    try {
      host = parseListen(text).host;
    } catch (error) {
      throw new UsageError(`--${flag}: ${describeError(error)}`);
    }
    if (!LOOPBACK.has(host)) {
      throw new UsageError(`--${flag} must be a loopback address such as 127.0.0.1:PORT: the demo prints its token`);
    }
    return text;
  };
  let rate: number | undefined;
  if (flags["traffic"] !== undefined) {
    rate = flags["traffic"] === true ? DEFAULT_RATE : Number(flags["traffic"]);
    if (!Number.isFinite(rate) || rate <= 0 || rate > MAX_RATE) {
      throw new UsageError(
        `--traffic must be a rate from 0 to ${MAX_RATE} requests a second, not "${flags["traffic"]}"`,
      );
    }
  }
  let durationMs: number | undefined;
  if (typeof flags["duration"] === "string") {
    try {
      durationMs = parseDuration(flags["duration"]);
    } catch (error) {
      throw new UsageError(`--duration: ${describeError(error)}`);
    }
  }
  return {
    listen: address("listen"),
    upstreamListen: address("upstream-listen"),
    listenAdmin: address("listen-admin"),
    dataDir: typeof flags["data-dir"] === "string" ? flags["data-dir"] : undefined,
    rate,
    durationMs,
    json: flags["json"] === true,
  };
}

/** Runs `tapline demo ARGS` until `--duration` passes or SIGINT/SIGTERM; returns the exit code. */
export async function runDemoCommand(argv: readonly string[], runtime: Runtime): Promise<number> {
  const options = parseDemoArgs(argv);
  // Loaded here so that no other command, and no production path, carries the demo's code.
  const { startDemoUpstream } = await import("../demo/upstream.ts");
  const { demoConfigYaml } = await import("../demo/config.ts");
  const { DEMO_SECRET, startTraffic } = await import("../demo/traffic.ts");

  const dataDir = (options.dataDir ?? await runtime.makeTempDir("tapline-demo-")).replace(/[/\\]+$/, "");
  const upstreamAddress = parseListen(options.upstreamListen);
  let upstream: DemoUpstream;
  try {
    upstream = await startDemoUpstream(upstreamAddress.host, upstreamAddress.port);
  } catch (error) {
    throw withFlag(listenFailed("the demo upstream", options.upstreamListen, error), "--upstream-listen");
  }

  const configFile = `${dataDir}/tapline-demo.yaml`;
  const yaml = demoConfigYaml({
    listen: options.listen,
    upstream: upstream.url,
    listenAdmin: options.listenAdmin,
    dataDir,
  });
  let running;
  try {
    const command = await resolveCommandLine(
      ["--config", configFile, "--data-dir", dataDir],
      {},
      (path) => path === configFile ? Promise.resolve(yaml) : runtime.readTextFile(path),
    );
    if (command.kind !== "run") throw new Error(`unexpected ${command.kind}`);
    const { config } = command;
    const logger = createLogger(config.logLevel, config.logFormat, (line) => runtime.writeStderr(line + "\n"));
    running = await startTapline(config, { runtime, logger, configFile });
  } catch (error) {
    await upstream.close();
    if (error instanceof ListenFailedError) {
      throw withFlag(error, error.address === options.listenAdmin ? "--listen-admin" : "--listen");
    }
    throw error;
  }

  const proxy = `http://${running.listening.find((l) => l.kind === "proxy")!.address}`;
  const admin = `http://${running.listening.find((l) => l.kind === "admin")!.address}`;
  const tokenFile = `${dataDir}/admin_token`;
  const token = (await clientToken(tokenFile, runtime)) ?? "";
  const info = {
    proxy,
    upstream: upstream.url,
    admin,
    viewer: `${admin}/ui/`,
    token_file: tokenFile,
    data_dir: dataDir,
    jsonl: `${dataDir}/app.jsonl`,
    sqlite: `${dataDir}/app.db`,
  };
  runtime.writeStdout(options.json ? JSON.stringify(info) + "\n" : banner(info, token, DEMO_SECRET, options));

  const color = !options.json && runtime.stdoutIsTerminal() && runtime.env()["NO_COLOR"] === undefined;
  const tailAbort = new AbortController();
  if (!options.json) runtime.writeStdout(TAIL_HEADER + "\n");
  const tail = followTail({
    admin,
    token,
    filter: "",
    signal: tailAbort.signal,
    onRecord: (data) =>
      runtime.writeStdout((options.json ? data : tailRow(JSON.parse(data) as CaptureRecord, color)) + "\n"),
    onNotice: (text) => runtime.writeStderr(`tapline demo: ${text}\n`),
  }).catch((error) => runtime.writeStderr(`tapline demo: the live table stopped: ${describeError(error)}\n`));
  const traffic = options.rate === undefined ? undefined : startTraffic(proxy, options.rate);

  const reason = await new Promise<string>((resolve) => {
    if (options.durationMs !== undefined) setTimeout(() => resolve("duration"), options.durationMs);
    onShutdownSignal((signal) => resolve(signal));
  });
  // A second signal while stopping ends at once, as the proxy command does.
  onShutdownSignal(() => runtime.exit(1));
  await traffic?.stop(2000);
  await running.shutdown(reason);
  tailAbort.abort();
  await tail;
  await upstream.close();
  // Counted in the file (the source of truth): the metrics count each record once per sink.
  const written = (await runtime.readTextFile(info.jsonl).catch(() => "")).split("\n").length - 1;
  const sent = traffic ? `; the demo sent ${traffic.stats.started} exchanges (${traffic.stats.failed} failed)` : "";
  runtime.writeStderr(`tapline demo: stopped (${reason}); ${written} records in ${info.jsonl}${sent}\n`);
  return 0;
}

/** `error` with the demo flag that sets its address named. */
function withFlag(error: ListenFailedError, flag: string): ListenFailedError {
  return new ListenFailedError(`${error.message}; choose another address with ${flag}`, error.address, {
    cause: error.cause,
  });
}

function banner(
  info: { proxy: string; upstream: string; admin: string; viewer: string; token_file: string; data_dir: string },
  token: string,
  secret: string,
  options: DemoOptions,
): string {
  const chat = `'{"model":"demo-1","stream":true,"messages":[{"role":"user","content":"hello"}]}'`;
  const lines = [
    "tapline demo: a demo app, tapline in front of it, capture and the admin port, all on loopback in this process",
    "",
    `  proxy     ${info.proxy}  ->  demo app ${info.upstream}`,
    `  records   ${info.data_dir}/app.jsonl and app.db (plugins: path-filter, text-replace, redaction)`,
    `  viewer    ${info.viewer}  token: ${token}  (also in ${info.token_file})`,
    "",
    "Try:",
    `  curl ${info.proxy}/`,
    `  curl -H 'Authorization: Bearer ${secret}' ${info.proxy}/api/users/1      # recorded as [REDACTED]`,
    `  curl -N ${info.proxy}/v1/chat/completions -H 'content-type: application/json' -d ${chat}`,
    `  tapline tail --admin ${info.admin} --token-file ${info.token_file}`,
    "",
    options.rate === undefined
      ? "Records appear below as they are written. Ctrl-C stops the demo and flushes every record."
      : `Sending ${options.rate} exchanges a second through the proxy. Ctrl-C stops the demo and flushes every record.`,
    "",
  ];
  return lines.join("\n");
}
