/** Table rows from tail records: the same summary the list API returns, from the same code. */
import type { CaptureRecord } from "../../src/shared/record.ts";
import { isTrace, type TraceSummary, traceSummary } from "../../src/traces/trace-summary.ts";

export type { TraceSummary };
export { mergeSummaries } from "../../src/traces/trace-summary.ts";

/** The row of a record that is a trace of its own, or undefined (a frame, an event, an exchange's custom record). */
export function rowOf(record: CaptureRecord): TraceSummary | undefined {
  return isTrace(record) ? traceSummary(record) : undefined;
}
