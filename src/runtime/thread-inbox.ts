/**
 * The capture thread's inbox, opened from the moment the thread's first
 * module runs (`cli/main.ts` imports this module before any other, as it
 * does shutdown-signals.ts). Bun hands a worker the messages posted to it
 * as soon as its main module awaits, and drops those that find no listener:
 * the runtime adapter, loaded after such an await, would attach its own too
 * late and lose the first writes. Messages wait here until a handler is set.
 */
import { isMainThread, parentPort } from "node:worker_threads";

let handler: ((message: unknown) => void) | undefined;
const early: unknown[] = [];

if (!isMainThread && parentPort !== null) {
  parentPort.on("message", (message: unknown) => {
    if (handler) handler(message);
    else early.push(message);
  });
}

/** Sets the handler of the messages from the starting thread, first those that came before it. */
export function onThreadMessage(next: (message: unknown) => void): void {
  handler = next;
  for (const message of early.splice(0)) next(message);
}
