/** Counts exchanges in flight so shutdown can wait for them to finish. */
export class ActivityTracker {
  #active = 0;
  #idleWaiters: Array<() => void> = [];

  get active(): number {
    return this.#active;
  }

  enter(): void {
    this.#active++;
  }

  leave(): void {
    if (--this.#active === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves once nothing is in flight. */
  whenIdle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }
}
