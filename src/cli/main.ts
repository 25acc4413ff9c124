/**
 * The `tapline` command: resolves the configuration, starts the proxies on the
 * current runtime and stops them cleanly on SIGTERM/SIGINT.
 */
// First: SIGTERM and SIGINT are caught from here on, before any listener can open.
import { onShutdownSignal, releaseShutdownSignals } from "../runtime/shutdown-signals.ts";
// Then: a capture thread's messages are kept from here on (see thread-inbox.ts).
import "../runtime/thread-inbox.ts";
import { resolveCommandLine } from "../config/load.ts";
import { TaplineError } from "../shared/errors.ts";
import { createLogger } from "../shared/logger.ts";
import { detectRuntime } from "../runtime/select.ts";
import type { Runtime } from "../runtime/types.ts";
import { VERSION } from "../version.ts";
import { startTapline } from "./run.ts";
import { renderSystemdUnit } from "./systemd.ts";
import { workerSetup } from "./worker-primary.ts";
import { serveCaptureThread } from "./capture-thread.ts";

function fail(runtime: Runtime, error: unknown): never {
  if (error instanceof TaplineError) {
    runtime.writeStderr(`tapline: ${error.message}\n`);
    if (error.exitCode === 64) runtime.writeStderr("Run 'tapline --help' for usage.\n");
    return runtime.exit(error.exitCode);
  }
  runtime.writeStderr(
    `tapline: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return runtime.exit(70);
}

/** A subcommand's entry: the exit code of its arguments. */
type Subcommand = (argv: readonly string[], runtime: Runtime) => Promise<number>;

/**
 * Subcommands other than running the proxy, each loaded only when called (sql.js, the pack tools and the readers
 * are large). Literal import specifiers keep the module graph static for single binaries.
 */
const SUBCOMMANDS: Record<string, () => Promise<Subcommand>> = {
  reindex: () => import("./reindex-command.ts").then((m) => m.runReindexCommand),
  pack: () => import("./pack-command.ts").then((m) => m.runPackCommand),
  plugins: () => import("./plugins-command.ts").then((m) => m.runPluginsCommand),
  tail: () => import("./tail-command.ts").then((m) => m.runTailCommand),
  inspect: () => import("./inspect-command.ts").then((m) => m.runInspectCommand),
  export: () => import("./export-command.ts").then((m) => m.runExportCommand),
  replay: () => import("./replay-command.ts").then((m) => m.runReplayCommand),
  demo: () => import("./demo-command.ts").then((m) => m.runDemoCommand),
};

/** Subcommands that serve until stopped: they keep SIGTERM/SIGINT to stop cleanly. */
const SERVING = new Set(["demo"]);

/** Runs the command line of this process. */
export async function main(): Promise<void> {
  const runtime = await detectRuntime();
  // This module runs again as the capture thread (--capture-thread): that thread only writes captures.
  if (runtime.threads.parent) return serveCaptureThread(runtime, runtime.threads.parent);
  try {
    // A --workers process runs the primary's command line (a compiled binary's own argv may differ).
    const args = (runtime.cluster.parent ? workerSetup(runtime.env())?.argv : undefined) ?? runtime.args();
    const subcommand = args[0] !== undefined && Object.hasOwn(SUBCOMMANDS, args[0]) ? SUBCOMMANDS[args[0]] : undefined;
    if (subcommand) {
      if (!SERVING.has(args[0]!)) releaseShutdownSignals();
      runtime.exit(await (await subcommand())(args.slice(1), runtime));
    }
    const command = await resolveCommandLine(args, runtime.env(), runtime.readTextFile);
    if (command.kind !== "run") releaseShutdownSignals();
    switch (command.kind) {
      case "help":
        runtime.writeStdout(command.text);
        return;
      case "version":
        runtime.writeStdout(`tapline ${VERSION} (${runtime.name} ${runtime.version})\n`);
        return;
      case "print-systemd":
        runtime.writeStdout(
          renderSystemdUnit({
            execStart: runtime.execStart(),
            args: command.args,
            workingDirectory: runtime.cwd(),
            shutdownTimeout: command.config.shutdownTimeout,
            environment: command.environment,
            withheld: command.withheld,
          }),
        );
        return;
      case "run": {
        const { config } = command;
        const logger = createLogger(config.logLevel, config.logFormat, (line) => runtime.writeStderr(line + "\n"));
        const running = await startTapline(config, {
          runtime,
          logger,
          configFile: command.configFile,
          argv: args,
          entry: import.meta.url,
        });
        let signals = 0;
        // A signal that came while starting is delivered now: a clean stop, as at any later time.
        onShutdownSignal((signal) => {
          // A --workers process also gets the terminal's Ctrl-C and then the primary's SIGTERM: it is stopping already.
          if (++signals > 1 && runtime.cluster.parent) return;
          if (signals > 1) {
            logger.warn("second signal, exiting without waiting for in-flight exchanges", { signal });
            return runtime.exit(1);
          }
          running.shutdown(signal).then(
            () => runtime.exit(0),
            (error) => fail(runtime, error),
          );
        });
      }
    }
  } catch (error) {
    fail(runtime, error);
  }
}

await main();
