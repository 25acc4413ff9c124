/** Process-level operations through node:process, which all three runtimes provide. */
import { hostname } from "node:os";
import process from "node:process";
import { processCluster } from "./cluster.ts";
import { programThreads } from "./threads.ts";
import { readTextFile } from "./fs.ts";
import { createPrivateFile } from "./private-file.ts";

export const processOperations = {
  readTextFile,
  createPrivateFile,
  args: (): string[] => process.argv.slice(2),
  env: () => process.env as Record<string, string | undefined>,
  cwd: (): string => process.cwd(),
  hostname: (): string => hostname(),
  execStart: (): string[] => {
    const script = process.argv[1];
    // In a `bun build --compile` binary the script is a path inside the binary (/$bunfs/..., B:/~BUN/...): the
    // binary alone is the command.
    const embedded = script === undefined || script.startsWith("/$bunfs/") || script.startsWith("B:/~BUN/");
    return embedded ? [process.execPath] : [process.execPath, script];
  },
  onReloadSignal(handler: () => void): void {
    process.on("SIGHUP", () => handler());
  },
  writeStdout: (text: string): void => void process.stdout.write(text),
  writeStderr: (text: string): void => void process.stderr.write(text),
  stderrIsTerminal: (): boolean => process.stderr.isTTY === true,
  stdoutIsTerminal: (): boolean => process.stdout.isTTY === true,
  exit: (code: number): never => process.exit(code),
  cluster: processCluster,
  threads: programThreads,
};
