/**
 * Starts a real tapline process under one runtime, waits for its "ready" log
 * line, and reads the ports it bound from its "listening" lines, so tests can
 * listen on port 0 and never collide.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { removeDir, tempDir } from "./fixture.ts";
import { repoRoot, type Runtime, taplineCommand } from "./runtimes.ts";

/** One parsed JSON log line from tapline's stderr. */
export interface LogLine {
  time?: string;
  level?: string;
  msg?: string;
  kind?: string;
  route?: string;
  scheme?: string;
  address?: string;
  [key: string]: unknown;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** How long to wait for the "ready" line. Default 20 s. */
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const live = new Set<ChildProcess>();
/**
 * TAPLINE_DATA_DIR of every process a test does not give its own: tapline writes its generated admin token
 * there, which must not land in the repository's ./data.
 */
const dataDir = tempDir("tapline-data-");
// A crashed or interrupted test run must not leave tapline processes behind.
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
  removeDir(dataDir);
});

/** A running tapline process. */
export class Tapline {
  readonly runtime: Runtime;
  readonly child: ChildProcess;
  readonly args: string[];
  /** All of stderr so far, raw. */
  stderr = "";
  stdout = "";
  /** Every stderr line that parsed as a JSON object. */
  readonly logs: LogLine[] = [];
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitStatus>;
  exitStatus: ExitStatus | undefined;
  private partial = "";
  private readonly waiters: Array<{ test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];

  constructor(runtime: Runtime, args: string[], options: StartOptions = {}) {
    this.runtime = runtime;
    this.args = args;
    const { command, args: lead } = taplineCommand(runtime);
    this.child = spawn(command, [...lead, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, NO_COLOR: "1", TAPLINE_DATA_DIR: dataDir, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(this.child);
    this.child.stdout!.setEncoding("utf8");
    this.child.stderr!.setEncoding("utf8");
    this.child.stdout!.on("data", (d: string) => (this.stdout += d));
    this.child.stderr!.on("data", (d: string) => this.onStderr(d));
    this.exited = new Promise((resolve) => {
      this.child.on("error", (err) => {
        this.stderr += `\n[harness] spawn failed: ${err.message}\n`;
      });
      this.child.on("close", (code, signal) => {
        live.delete(this.child);
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      });
    });
  }

  private onStderr(data: string): void {
    this.stderr += data;
    this.partial += data;
    let nl: number;
    while ((nl = this.partial.indexOf("\n")) >= 0) {
      const line = this.partial.slice(0, nl).trim();
      this.partial = this.partial.slice(nl + 1);
      if (!line.startsWith("{")) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue;
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) continue;
      const entry = parsed as LogLine;
      this.logs.push(entry);
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        const w = this.waiters[i]!;
        if (w.test(entry)) {
          this.waiters.splice(i, 1);
          w.resolve(entry);
        }
      }
    }
  }

  /** Resolve with the first log line (past or future) matching `test`; reject on exit or timeout. */
  waitForLog(test: (l: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    const seen = this.logs.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (settle: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        settle();
      };
      const waiter = { test, resolve: (l: LogLine) => finish(() => resolve(l)) };
      this.waiters.push(waiter);
      const timer = setTimeout(() => {
        finish(() =>
          reject(new Error(`${this.describe()}: no ${what} log line within ${timeoutMs} ms\n${this.stderrTail()}`))
        );
      }, timeoutMs);
      void this.exited.then((s) => {
        finish(() =>
          reject(
            new Error(
              `${this.describe()}: exited (code ${s.code}, signal ${s.signal}) before ${what}\n${this.stderrTail()}`,
            ),
          )
        );
      });
    });
  }

  /** Port of a proxy listener, from its "listening" line. */
  port(route: string, scheme: "http" | "https" = "http"): number {
    const line = this.logs.find((l) =>
      l.msg === "listening" && l.kind === "proxy" && l.route === route && l.scheme === scheme
    );
    if (!line || typeof line.address !== "string") {
      throw new Error(`${this.describe()}: no "listening" line for route ${route} (${scheme})\n${this.stderrTail()}`);
    }
    return portOf(line.address);
  }

  /** URL on a proxy listener: `tap.url("api", "/x?y=1")`. */
  url(route: string, path: string, scheme: "http" | "https" = "http"): string {
    return `${scheme}://127.0.0.1:${this.port(route, scheme)}${path}`;
  }

  /** Port of the admin listener. */
  adminPort(): number {
    const line = this.logs.find((l) => l.msg === "listening" && l.kind === "admin");
    if (!line || typeof line.address !== "string") {
      throw new Error(`${this.describe()}: no admin "listening" line\n${this.stderrTail()}`);
    }
    return portOf(line.address);
  }

  /** Send `signal`, wait for exit; SIGKILL and throw if it takes longer than `timeoutMs`. */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 15_000): Promise<ExitStatus> {
    if (this.exitStatus) return this.exitStatus;
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
    const result = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (result === "timeout") {
      this.child.kill("SIGKILL");
      await this.exited;
      throw new Error(`${this.describe()}: did not exit within ${timeoutMs} ms of ${signal}\n${this.stderrTail()}`);
    }
    return result;
  }

  /** Kill without waiting for a clean stop (cleanup after a failure). */
  async kill(): Promise<void> {
    if (this.exitStatus) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }

  describe(): string {
    return `tapline on ${this.runtime} (pid ${this.child.pid})`;
  }

  /** The last part of stderr, for failure messages. */
  stderrTail(max = 4000): string {
    const text = this.stderr.length > max ? "…" + this.stderr.slice(-max) : this.stderr;
    return `--- stderr of ${this.describe()} ---\n${text}\n--- end of stderr ---`;
  }
}

function portOf(address: string): number {
  const port = Number(address.slice(address.lastIndexOf(":") + 1));
  if (!Number.isInteger(port) || port <= 0) throw new Error(`Cannot read a port from address "${address}"`);
  return port;
}

/**
 * Start tapline with `args` under `runtime` and wait for its "ready" line.
 * Fails with the captured stderr when it exits or stays silent for 20 s.
 */
export async function startTapline(runtime: Runtime, args: string[], options: StartOptions = {}): Promise<Tapline> {
  const tap = new Tapline(runtime, args, options);
  try {
    await tap.waitForLog((l) => l.msg === "ready", options.readyTimeoutMs ?? 20_000, `"ready"`);
  } catch (err) {
    await tap.kill();
    throw err;
  }
  return tap;
}

export interface RunResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

/** Run tapline to completion (for usage and config errors); SIGKILL after `timeoutMs`. */
export async function runTapline(
  runtime: Runtime,
  args: string[],
  timeoutMs = 20_000,
  options: StartOptions = {},
): Promise<RunResult> {
  const tap = new Tapline(runtime, args, options);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
  const result = await Promise.race([tap.exited, timedOut]);
  clearTimeout(timer);
  if (result === "timeout") {
    await tap.kill();
    throw new Error(
      `${tap.describe()} with ${JSON.stringify(args)} was still running after ${timeoutMs} ms\n${tap.stderrTail()}`,
    );
  }
  return { ...result, stdout: tap.stdout, stderr: tap.stderr };
}
