/**
 * A value from the user (a flag, a config entry) quoted for an error
 * message, cut short when long: a 5,000-character mistake must not make a
 * 5,000-character message.
 *
 * @example shown("1QB") // '"1QB"'
 * @example shown("a".repeat(500)) // '"aaaa…" (502 characters)'
 */
export function shown(value: unknown, max = 80): string {
  const json = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  if (json.length <= max) return json;
  return `${json.slice(0, max)}…${typeof value === "string" ? '"' : ""} (${json.length} characters)`;
}
