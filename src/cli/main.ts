/**
 * The `tapline` command: resolves the configuration, starts the proxies on the
 * current runtime and stops them cleanly on SIGTERM/SIGINT.
 */
import { resolveCommandLine } from "../config/load.ts";
import { TaplineError } from "../shared/errors.ts";
import { createLogger } from "../shared/logger.ts";
import { detectRuntime } from "../runtime/select.ts";
import type { Runtime } from "../runtime/types.ts";
import { VERSION } from "../version.ts";
import { startTapline } from "./run.ts";
import { renderSystemdUnit } from "./systemd.ts";

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

/** Runs the command line of this process. */
export async function main(): Promise<void> {
  const runtime = await detectRuntime();
  try {
    const args = runtime.args();
    if (args[0] === "reindex") {
      // Loaded only for this command: sql.js is large.
      const { runReindexCommand } = await import("./reindex-command.ts");
      runtime.exit(await runReindexCommand(args.slice(1), runtime));
    }
    if (args[0] === "pack") {
      const { runPackCommand } = await import("./pack-command.ts");
      runtime.exit(await runPackCommand(args.slice(1), runtime));
    }
    if (args[0] === "inspect") {
      const { runInspectCommand } = await import("./inspect-command.ts");
      runtime.exit(await runInspectCommand(args.slice(1), runtime));
    }
    if (args[0] === "export") {
      const { runExportCommand } = await import("./export-command.ts");
      runtime.exit(await runExportCommand(args.slice(1), runtime));
    }
    if (args[0] === "replay") {
      const { runReplayCommand } = await import("./replay-command.ts");
      runtime.exit(await runReplayCommand(args.slice(1), runtime));
    }
    if (args[0] === "tail") {
      const { runTailCommand } = await import("./tail-command.ts");
      runtime.exit(await runTailCommand(args.slice(1), runtime));
    }
    if (args[0] === "plugins") {
      const { runPluginsCommand } = await import("./plugins-command.ts");
      runtime.exit(await runPluginsCommand(args.slice(1), runtime));
    }
    const command = await resolveCommandLine(runtime.args(), runtime.env(), runtime.readTextFile);
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
        const running = await startTapline(config, { runtime, logger, configFile: command.configFile });
        let signals = 0;
        runtime.onShutdownSignal((signal) => {
          if (++signals > 1) {
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
