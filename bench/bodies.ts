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

/**
 * `size` bytes of JSON shaped like an API's list of users, the same on every
 * run: each item carries an email address and the word "benchmark", so the
 * plugin benchmark's redaction and text-replace rules find work in it.
 */
export function bodyJson(size: number): string {
  const items: string[] = [];
  const wrap = (list: string[], pad: number) => `{"items":[${list.join(",")}],"pad":"${"x".repeat(pad)}"}\n`;
  for (let i = 1;; i++) {
    const item = `{"id":${i},"name":"User ${i}","email":"user${i}@example.com","note":"tapline benchmark row ${i}"}`;
    if (wrap([...items, item], 0).length > size) break;
    items.push(item);
  }
  const pad = size - wrap(items, 0).length;
  if (pad < 0) throw new Error(`bodyJson: ${size} bytes is too small for one item`);
  return wrap(items, pad);
}
