/**
 * SIGTERM and SIGINT, caught from the moment tapline's first module runs
 * (`cli/main.ts` imports this module before any other): a signal that
 * arrives while tapline is still starting is kept and delivered once the
 * command says what stopping means, so a listener is never open without a
 * clean way to stop it (flush every record, log `stopped`, exit 0).
 * Commands that do not serve (reindex, tail, ...) give the signals back to
 * the runtime's default, so Ctrl-C ends them as before.
 *
 * Before the runtime runs any of tapline's code (its own start-up, some tens
 * of milliseconds), the operating system's default applies: the process ends
 * with the signal, with nothing open and nothing captured.
 */

import { isMainThread } from "node:worker_threads";

/** The signals that stop tapline. */
export type ShutdownSignal = "SIGTERM" | "SIGINT";
const SIGNALS: readonly ShutdownSignal[] = ["SIGTERM", "SIGINT"];

interface DenoSignals {
  pid: number;
  addSignalListener(signal: ShutdownSignal, handler: () => void): void;
  removeSignalListener(signal: ShutdownSignal, handler: () => void): void;
  kill(pid: number, signal: ShutdownSignal): void;
}

interface ProcessSignals {
  pid: number;
  on(signal: ShutdownSignal, handler: () => void): unknown;
  off(signal: ShutdownSignal, handler: () => void): unknown;
  kill(pid: number, signal: ShutdownSignal): unknown;
}

let handler: ((signal: ShutdownSignal) => void) | undefined;
const pending: ShutdownSignal[] = [];
const removers: Array<() => void> = [];
const deno = (globalThis as { Deno?: DenoSignals }).Deno;
const process = (globalThis as { process?: ProcessSignals }).process;

function deliver(signal: ShutdownSignal): void {
  if (handler) handler(signal);
  else pending.push(signal);
}

// Signals belong to the main thread: a capture thread (runtime/shared/threads.ts) loads this module too.
for (const signal of isMainThread ? SIGNALS : []) {
  const listener = () => deliver(signal);
  if (deno) {
    deno.addSignalListener(signal, listener);
    removers.push(() => deno.removeSignalListener(signal, listener));
  } else if (process) {
    process.on(signal, listener);
    removers.push(() => process.off(signal, listener));
  }
}

/**
 * Calls `next` for every SIGTERM or SIGINT from now on, and at once for those
 * that came before.
 *
 * @example onShutdownSignal((signal) => void running.shutdown(signal));
 */
export function onShutdownSignal(next: (signal: ShutdownSignal) => void): void {
  handler = next;
  for (const signal of pending.splice(0)) next(signal);
}

/**
 * Gives SIGTERM and SIGINT back to the runtime's default; one that came
 * meanwhile is raised again, so the process ends as it would have.
 */
export function releaseShutdownSignals(): void {
  for (const remove of removers.splice(0)) remove();
  const signal = pending.shift();
  if (signal === undefined) return;
  if (deno) deno.kill(deno.pid, signal);
  else process?.kill(process.pid, signal);
}
