/**
 * A one-line description of any thrown value, for records and logs. Network
 * errors often hide their message in `cause` or, for a host with several
 * addresses, in an AggregateError's `errors`.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const inner = (error as { errors?: unknown }).errors;
  if (!error.message && Array.isArray(inner) && inner.length > 0) {
    return inner.map(describeError).join("; ");
  }
  const cause = (error as { cause?: unknown }).cause;
  const message = error.message || error.name;
  if (cause instanceof Error && cause !== error) {
    const causeErrors = (cause as { errors?: unknown }).errors;
    const informative = cause.message
      ? !message.includes(cause.message)
      : Array.isArray(causeErrors) && causeErrors.length > 0;
    if (informative) return `${message}: ${describeError(cause)}`;
  }
  return message;
}
