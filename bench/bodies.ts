/**
 * Deterministic printable bodies for the benchmark. Text (not random bytes)
 * so captures store it as UTF-8 text, as they would for typical API traffic,
 * rather than as base64.
 */

/** `size` bytes of printable ASCII lines, the same on every run. */
export function bodyText(size: number): string {
  const line = "tapline benchmark body 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\n";
  return line.repeat(Math.ceil(size / line.length)).slice(0, size);
}
