/**
 * Threads running this same program, through node:worker_threads, which
 * Node, Deno and Bun all provide (a `bun build --compile` binary included:
 * the thread loads the binary's own main module). A thread knows its role
 * from its worker data, set here, so a worker thread that some library
 * starts is never mistaken for one of tapline's.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import type { ProgramThreads, StartedThread, ThreadChannel } from "../types.ts";
import { onThreadMessage } from "../thread-inbox.ts";

/** Marks tapline's own threads in their worker data. */
const ROLE_KEY = "taplineThread";

interface ThreadData {
  [ROLE_KEY]: true;
  data: unknown;
}

function isThreadData(value: unknown): value is ThreadData {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[ROLE_KEY] === true;
}

function parentChannel(): (ThreadChannel & { data: unknown }) | undefined {
  if (isMainThread || parentPort === null || !isThreadData(workerData)) return undefined;
  const port = parentPort;
  return {
    data: workerData.data,
    post: (message) => port.postMessage(message),
    onMessage: onThreadMessage,
  };
}

function start(entry: string, data: unknown): StartedThread {
  const worker = new Worker(new URL(entry), { workerData: { [ROLE_KEY]: true, data } satisfies ThreadData });
  let exited: ((code: number) => void) | undefined;
  let code: number | undefined;
  // An uncaught error in the thread arrives here before its exit; without a listener it would end this thread too.
  worker.on("error", () => {});
  worker.on("exit", (exitCode: number) => {
    code ??= exitCode;
    exited?.(code);
  });
  return {
    post: (message) => worker.postMessage(message),
    onMessage: (handler) => void worker.on("message", (message: unknown) => handler(message)),
    onExit: (handler) => {
      exited = handler;
      if (code !== undefined) handler(code);
    },
    terminate: async () => {
      await worker.terminate();
    },
  };
}

export const programThreads: ProgramThreads = { parent: parentChannel(), start };
