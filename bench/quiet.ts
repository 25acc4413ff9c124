/**
 * Machine-wide CPU use, to wait for other work on a shared box to settle
 * before a measurement and to report how much of it ran during one.
 */
import { busyTicksPerCpu, clockTicks } from "./procstat.ts";
import { sleep } from "./procs.ts";

/** CPU seconds all cores have been busy since boot (irq/softirq excluded, see procstat.ts). */
export function totalBusySeconds(): number {
  return busyTicksPerCpu().reduce((a, b) => a + (b ?? 0), 0) / clockTicks();
}

/**
 * Wait (up to `maxSeconds`) until the machine is idle apart from us. Returns
 * the busy percentage (of one core) seen in the last 0.5 s sample.
 */
export async function waitQuiet(maxSeconds: number, log: (msg: string) => void): Promise<number> {
  const deadline = Date.now() + maxSeconds * 1000;
  let warned = false;
  for (;;) {
    const b0 = totalBusySeconds();
    await sleep(500);
    const busy = ((totalBusySeconds() - b0) / 0.5) * 100;
    if (busy < 20 || Date.now() > deadline) {
      if (busy >= 20) log(`other load still at ${busy.toFixed(0)}% of a core; measuring anyway`);
      return busy;
    }
    if (!warned) {
      log(`waiting for other load (${busy.toFixed(0)}% of a core) to settle`);
      warned = true;
    }
  }
}
