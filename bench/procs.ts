/**
 * Starting, watching and stopping the benchmark's child processes. Every
 * child is tracked so that an exit, Ctrl-C or SIGTERM of the harness kills
 * them all (by pid) and nothing is left listening.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createConnection } from "node:net";
import { processTree } from "./procstat.ts";

const live = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];
let hooked = false;

/** Run `fn` (synchronously) when the harness exits or is interrupted, after children are killed. */
export function onCleanup(fn: () => void): void {
  cleanups.push(fn);
  hook();
}

/** Register a child for cleanup on harness exit. */
export function track(child: ChildProcess): void {
  live.add(child);
  hook();
}

function hook(): void {
  if (!hooked) {
    hooked = true;
    process.on("exit", killAll);
    const codes = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.on(sig, () => {
        killAll();
        process.exit(codes[sig]);
      });
    }
  }
}

/** Forget a child that has exited. */
export function untrack(child: ChildProcess): void {
  live.delete(child);
}

/** SIGKILL every tracked child and its descendants (nginx workers outlive a killed master). */
function killAll(): void {
  for (const child of live) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
    for (const pid of processTree(child.pid).reverse()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
  live.clear();
  for (const fn of cleanups.splice(0)) {
    try {
      fn();
    } catch {
      // Best effort on the way out.
    }
  }
}

/** A started service: its pid and everything it wrote to stderr. */
export interface Service {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Accumulated stdout + stderr (last 64 KiB), for error messages. */
  output: () => string;
  /** Resolves when `text` appears in the output (or rejects after `ms`). */
  waitFor: (text: string, ms: number) => Promise<void>;
  exited: Promise<number | null>;
}

/** Spawn `cmd args` pinned to `core` (a taskset CPU list) when given. */
export function startService(
  name: string,
  cmd: string,
  args: string[],
  opts: { core?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Service {
  const [file, argv] = opts.core === undefined ? [cmd, args] : ["taskset", ["-c", opts.core, cmd, ...args]];
  // taskset execs the command, so the child's pid is the service's pid.
  const child = spawn(file, argv as string[], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  track(child);
  let out = "";
  const waiters: { text: string; resolve: () => void }[] = [];
  const onData = (d: Buffer) => {
    out = (out + d.toString()).slice(-65536);
    for (const w of [...waiters]) {
      if (out.includes(w.text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | null>((resolve) => {
    child.on("error", (err) => {
      out += `\nspawn error: ${err.message}`;
      resolve(-1);
    });
    child.on("exit", (code) => {
      untrack(child);
      resolve(code);
    });
  });
  return {
    name,
    child,
    pid: child.pid ?? -1,
    output: () => out,
    exited,
    waitFor: (text, ms) =>
      new Promise<void>((resolve, reject) => {
        if (out.includes(text)) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`${name} did not print ${text} within ${ms} ms:\n${out.slice(-2000)}`)),
          ms,
        );
        waiters.push({
          text,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${code}) before printing ${text}:\n${out.slice(-2000)}`));
        });
      }),
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopService(svc: Service, graceMs = 5000): Promise<void> {
  if (svc.child.exitCode !== null || svc.child.signalCode !== null) return;
  svc.child.kill("SIGTERM");
  const timer = setTimeout(() => {
    for (const pid of processTree(svc.pid).reverse()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }, graceMs);
  await svc.exited;
  clearTimeout(timer);
}

/** Resolve once 127.0.0.1:`port` accepts a TCP connection; reject after `ms`. */
export async function waitForPort(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: "127.0.0.1", port });
      sock.once("connect", () => {
        sock.destroy();
        resolve(true);
      });
      sock.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`Nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await sleep(50);
  }
}

/** Resolve once nothing accepts on 127.0.0.1:`port` any more (or after `ms`). */
export async function waitForPortFree(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const busy = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: "127.0.0.1", port });
      sock.once("connect", () => {
        sock.destroy();
        resolve(true);
      });
      sock.once("error", () => resolve(false));
    });
    if (!busy) return;
    await sleep(50);
  }
}

/** Promise-based delay. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Throw if something already accepts on 127.0.0.1:`port` (e.g. another benchmark run). */
export async function assertPortFree(port: number): Promise<void> {
  const busy = await new Promise<boolean>((resolve) => {
    const sock = createConnection({ host: "127.0.0.1", port });
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
  if (busy) {
    throw new Error(
      `Port ${port} on 127.0.0.1 is already in use (is another benchmark running?): stop it or pass --port`,
    );
  }
}

/**
 * Wait until `svc` accepts on 127.0.0.1:`port`, failing if it exits first or
 * right after (a bind error must not let another process answer in its place).
 */
export async function waitListening(svc: Service, port: number, ms: number): Promise<void> {
  await Promise.race([
    waitForPort(port, ms),
    svc.exited.then((code) => {
      throw new Error(`${svc.name} exited (code ${code}) before listening on 127.0.0.1:${port}:\n${svc.output()}`);
    }),
  ]);
  await sleep(200);
  if (svc.child.exitCode !== null || svc.child.signalCode !== null) {
    throw new Error(`${svc.name} exited right after start:\n${svc.output().slice(-2000)}`);
  }
}
