let lastMs = Number.NaN;
let lastText = "";

/**
 * RFC 3339 text of an epoch-ms time. Streams produce many records per
 * millisecond, and formatting a date cost more than building the rest of a
 * small frame record, so the last result is reused.
 */
export function isoTimestamp(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastText = new Date(ms).toISOString();
  }
  return lastText;
}
