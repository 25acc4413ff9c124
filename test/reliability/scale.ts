/**
 * How big the reliability runs are: reduced by default so `npm test` fits CI,
 * full with `TAPLINE_RELIABILITY=full` (`npm run test:reliability`), as the
 * figures in test/reliability/README.md were measured.
 */
export const FULL = process.env["TAPLINE_RELIABILITY"] === "full";

/** `reduced` in CI, `full` in the full run. */
export function scale<T>(reduced: T, full: T): T {
  return FULL ? full : reduced;
}
