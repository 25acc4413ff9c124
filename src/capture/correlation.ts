import { headerValue, type RawHeaders } from "../shared/raw-headers.ts";

/** Request headers that carry a correlation id, in order of preference. */
const CORRELATION_HEADERS = ["x-request-id", "x-correlation-id", "x-trace-id"];

/** The exchange's correlation id from X-Request-ID, X-Correlation-ID or X-Trace-ID. */
export function correlationId(headers: RawHeaders): string | undefined {
  for (const name of CORRELATION_HEADERS) {
    const value = headerValue(headers, name);
    if (value) return value;
  }
  return undefined;
}
