/**
 * The primary side of `--workers N`: forks N worker processes that run the
 * same command and share every proxy listener, restarts one that dies (and
 * counts it) while the others go on forwarding, and stops them all on
 * shutdown, waiting until each has sent its last records.
 */
import type { ProcessCluster, WorkerProcess } from "../runtime/types.ts";
import { UnavailableError } from "../shared/errors.ts";
import type { CaptureRecord } from "../shared/record.ts";
import type { Logger } from "../shared/logger.ts";
import type { PrimaryMessage, WorkerMessage, WorkerReport } from "./worker-messages.ts";

/** What the pool needs and whom it tells. */
export interface WorkerPoolOptions {
  count: number;
  cluster: ProcessCluster;
  /** Added to each worker's environment (the command line and the bound ports). */
  env: Record<string, string>;
  logger: Logger;
  /** How long start-up and stopping may take per worker, in ms. */
  timeoutMs: number;
  onRecords(route: string, records: CaptureRecord[]): void;
  onReport(worker: number, report: WorkerReport): void;
  /** A worker ended (its last report is final). */
  onGone(worker: number): void;
}

interface Slot {
  index: number;
  process: WorkerProcess;
  /** Resolves on the worker's `done` message or its exit. */
  finished: Promise<void>;
}

/** How long after a worker's exit its last messages may still arrive, in ms. */
const EXIT_GRACE_MS = 1000;
/** Longest wait before restarting a worker that keeps dying, in ms. */
const MAX_RESTART_DELAY_MS = 10_000;

/** Running workers. */
export class WorkerPool {
  /** Workers that died and were started again. */
  restarts = 0;
  readonly #options: WorkerPoolOptions;
  readonly #slots = new Map<number, Slot>();
  #stopping = false;
  /** Recent deaths per worker, to back off a worker that dies at once each time. */
  readonly #crashes = new Map<number, number>();

  private constructor(options: WorkerPoolOptions) {
    this.#options = options;
  }

  /**
   * Starts `count` workers and resolves when all listen.
   * @throws UnavailableError when a worker exits before it is ready (its own error is on stderr).
   */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    try {
      await Promise.all(Array.from({ length: options.count }, (_, i) => pool.#start(i + 1)));
    } catch (error) {
      await pool.stop();
      throw error;
    }
    return pool;
  }

  /** Worker process ids, by worker number. */
  get pids(): Array<number | undefined> {
    return [...this.#slots.values()].map((slot) => slot.process.pid);
  }

  /** Sends `message` to every worker. */
  broadcast(message: PrimaryMessage): void {
    for (const slot of this.#slots.values()) slot.process.send(message);
  }

  /** Asks every worker to stop and waits until each has sent its last records (or was killed at the timeout). */
  async stop(): Promise<void> {
    this.#stopping = true;
    const slots = [...this.#slots.values()];
    for (const slot of slots) {
      // Both ways; a worker stops once whichever comes first. A message to a worker started again after a crash was
      // seen to go missing on Deno while connections were being handed out; the signal always arrives.
      slot.process.send({ type: "stop" } satisfies PrimaryMessage);
      slot.process.kill("SIGTERM");
    }
    await Promise.all(slots.map(async (slot) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = await Promise.race([
        slot.finished.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.#options.timeoutMs))),
      ]);
      clearTimeout(timer);
      if (late) {
        this.#options.logger.warn("worker did not stop in time; killing it", { worker: slot.index });
        slot.process.kill("SIGKILL");
      }
    }));
  }

  #start(index: number): Promise<void> {
    const { logger } = this.#options;
    const child = this.#options.cluster.fork(index, this.#options.env);
    let ready = false;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    this.#slots.set(index, { index, process: child, finished });
    return new Promise<void>((resolve, reject) => {
      child.onMessage((raw) => {
        const message = raw as WorkerMessage;
        switch (message?.type) {
          case "ready":
            ready = true;
            logger.info("worker ready", { worker: index, pid: child.pid });
            resolve();
            break;
          case "records":
            this.#options.onRecords(message.route, message.records);
            break;
          case "report":
            this.#options.onReport(index, message.report);
            break;
          case "done":
            finish();
            break;
        }
      });
      child.onExit((code, signal) => {
        // Messages the worker sent before it exited may still be in the channel (Deno reports the exit first):
        // its `done` ends the wait as soon as it is read.
        setTimeout(finish, EXIT_GRACE_MS);
        this.#options.onGone(index);
        if (this.#slots.get(index)?.process === child) this.#slots.delete(index);
        if (!ready) {
          reject(
            new UnavailableError(
              `Worker ${index} stopped while starting (exit code ${code}${signal ? `, signal ${signal}` : ""})`,
              "worker_failed",
            ),
          );
          return;
        }
        if (this.#stopping) return;
        const crashes = (this.#crashes.get(index) ?? 0) + 1;
        this.#crashes.set(index, crashes);
        setTimeout(() => this.#crashes.set(index, Math.max(0, (this.#crashes.get(index) ?? 1) - 1)), 60_000);
        const delay = Math.min(100 * 2 ** (crashes - 1), MAX_RESTART_DELAY_MS);
        logger.error("worker exited; starting another", { worker: index, code, signal, restart_in_ms: delay });
        this.restarts++;
        setTimeout(() => {
          if (this.#stopping) return;
          this.#start(index).catch((error) => logger.error("Failed to restart a worker", { worker: index, error }));
        }, delay);
      });
    });
  }
}
