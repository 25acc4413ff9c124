/** Retry delays: exponential, capped, with jitter so many files do not retry in step. */
import type { RetryOptions } from "./options.ts";

/**
 * The delay before retry number `attempt` (1 after the first failure):
 * `initialMs * 2^(attempt-1)` capped at `maxMs`, then drawn uniformly from
 * its upper half.
 *
 * @example
 * backoffDelay(3, { initialMs: 1000, maxMs: 60000 }, () => 1); // 4000
 */
export function backoffDelay(attempt: number, retry: RetryOptions, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 52);
  const base = Math.min(retry.maxMs, retry.initialMs * 2 ** exponent);
  return Math.round(base / 2 + random() * (base / 2));
}
