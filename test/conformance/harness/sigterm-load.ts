/**
 * SIGTERM while clients keep sending: the shared steps of the "one record
 * for every answered request" tests (--workers, --capture-thread).
 */
import { request } from "./client.ts";
import { sleep } from "./fixture.ts";
import type { ExitStatus, Tapline } from "./tapline.ts";

/** What happened: how many requests got a 200 before the listener closed, and how tapline exited. */
export interface SigtermUnderLoad {
  answered: number;
  exit: ExitStatus;
}

/**
 * Runs `clients` loops of requests to `/term?tag=TAG...` on route `api`, sends SIGTERM after `afterMs`, and
 * waits for tapline to exit and every client to stop.
 */
export async function sigtermUnderLoad(
  tap: Tapline,
  tag: string,
  clients = 8,
  afterMs = 800,
): Promise<SigtermUnderLoad> {
  let answered = 0;
  let stop = false;
  const client = async (c: number) => {
    for (let i = 0; !stop; i++) {
      try {
        const res = await request(tap.url("api", `/term?tag=${tag}&c=${c}&i=${i}`), { timeoutMs: 10_000 });
        if (res.status === 200) answered++;
      } catch {
        return; // the listener closed
      }
    }
  };
  const running = Array.from({ length: clients }, (_, c) => client(c));
  await sleep(afterMs);
  tap.child.kill("SIGTERM");
  const exit = await tap.exited;
  stop = true;
  await Promise.all(running);
  return { answered, exit };
}
