/**
 * Worker processes for `--workers N`, through node:cluster, which Node, Deno
 * and Bun all provide: each worker runs this same program, and the listeners
 * they open are shared (node:cluster hands connections out on Node and Deno;
 * on Bun, Bun.serve binds with SO_REUSEPORT and the kernel spreads them).
 * Messages are JSON; a worker knows its role from TAPLINE_INTERNAL_WORKER in its
 * environment, set here.
 */
import cluster from "node:cluster";
import { availableParallelism, cpus } from "node:os";
import process from "node:process";
import type { ParentChannel, ProcessCluster, WorkerProcess } from "../types.ts";

const WORKER_ENV = "TAPLINE_INTERNAL_WORKER";

function parentChannel(): ParentChannel | undefined {
  if (!cluster.isWorker || process.env[WORKER_ENV] === undefined || typeof process.send !== "function") {
    return undefined;
  }
  return {
    index: Number(process.env[WORKER_ENV]),
    send: (message) =>
      new Promise<void>((resolve, reject) => {
        process.send!(message, undefined, {}, (error: Error | null) => (error ? reject(error) : resolve()));
      }),
    onMessage: (handler) => void process.on("message", (message) => handler(message)),
    onDisconnect: (handler) => void process.on("disconnect", handler),
    disconnect: () => process.disconnect?.(),
  };
}

function fork(index: number, env: Record<string, string>): WorkerProcess {
  const worker = cluster.fork({ ...env, [WORKER_ENV]: String(index) });
  return {
    get pid() {
      return worker.process.pid;
    },
    send: (message) => {
      // A worker that is exiting has no channel left; what it missed no longer matters.
      if (worker.isConnected()) worker.send(message as never);
    },
    onMessage: (handler) => void worker.on("message", (message: unknown) => handler(message)),
    onExit: (handler) => void worker.on("exit", (code: number | null, signal: string | null) => handler(code, signal)),
    kill: (signal = "SIGTERM") => {
      // By pid: on Deno, the worker's ChildProcess.kill ends it without running its signal handlers.
      const pid = worker.process.pid;
      if (pid === undefined) return;
      try {
        process.kill(pid, signal);
      } catch { /* already gone */ }
    },
  };
}

export const processCluster: ProcessCluster = {
  parent: parentChannel(),
  fork,
  cpuCount: () => (typeof availableParallelism === "function" ? availableParallelism() : cpus().length),
};
