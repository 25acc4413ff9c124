/** Runs the curl command line tool, as users of the HTTP/2 cases would. */
import { execFile } from "node:child_process";

/** Runs curl (`-sS`, at most 20 s); resolves with its exit code and what it printed, never rejects. */
export function curl(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile("curl", ["-sS", "--max-time", "20", ...args], { maxBuffer: 1 << 20 }, (error, stdout) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout });
    });
  });
}
