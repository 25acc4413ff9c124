/** Runs an external program (the npm CLI, for `tapline pack install SPEC`) through node:child_process. */
import { execFile } from "node:child_process";

/** What a finished program said; `code` is null when it could not start. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command args` in `cwd` with a time limit; never throws. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd: string; timeoutMs: number },
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      { cwd: options.cwd, timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr || (error && code === null ? error.message : "")),
        });
      },
    );
  });
}
