/**
 * The Go http-tap-proxy `--proxy` syntax: comma-separated `key=value` pairs,
 * e.g. `name=api,listen_http=:8080,upstream=http://localhost:3000,log_jsonl=./logs/`.
 */
import { UsageError } from "../shared/errors.ts";
import { buildProxy, PROXY_KEYS, type ProxyKey, type RawProxy } from "./proxy.ts";
import type { ProxyConfig } from "./types.ts";
import { shown } from "../shared/shown-value.ts";

const REPEATABLE = new Set<string>(["include_path", "exclude_path"]);
const KEYISH_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Parse one `--proxy` value. `where` names it in messages, e.g. `--proxy #2`.
 * `include_path`/`exclude_path` may repeat. A comma inside a regex is kept
 * when the text after it is not a `key=` (so `include_path=^/v{1,2}/` works).
 *
 * @throws UsageError naming the key and `where`.
 */
export function parseProxySpec(text: string, where: string): ProxyConfig {
  const raw: RawProxy = { include_path: [], exclude_path: [] };
  const seen = new Set<string>();
  let last: { key: ProxyKey } | undefined;
  for (const piece of text.split(",")) {
    const eq = piece.indexOf("=");
    const key = eq < 0 ? "" : piece.slice(0, eq).trim();
    if (!KEYISH_RE.test(key)) {
      if (piece.trim() === "") continue;
      if (!last) {
        throw new UsageError(
          `Invalid --proxy value ${
            shown(piece)
          } in ${where}: expected comma-separated key=value pairs, e.g. name=api,listen_http=:8080,upstream=http://localhost:3000`,
        );
      }
      appendToLast(raw, last.key, `,${piece}`);
      continue;
    }
    const value = piece.slice(eq + 1);
    if (!(PROXY_KEYS as readonly string[]).includes(key)) {
      throw new UsageError(
        `Unknown key ${shown(key)} in ${where}: valid keys are ${PROXY_KEYS.join(", ")}`,
      );
    }
    const known = key as ProxyKey;
    if (seen.has(known) && !REPEATABLE.has(known)) {
      throw new UsageError(`Duplicate key ${shown(known)} in ${where}: give it once`);
    }
    seen.add(known);
    if (known === "include_path" || known === "exclude_path") raw[known].push(value);
    else raw[known] = value;
    last = { key: known };
  }
  for (const key of seen) {
    const value = raw[key as ProxyKey];
    if (value === "" || (Array.isArray(value) && value.includes(""))) {
      throw new UsageError(`Empty value for ${shown(key)} in ${where}`);
    }
  }
  return buildProxy(raw, ({ what, why }) => {
    throw new UsageError(`${what} in ${where}: ${why}`);
  });
}

function appendToLast(raw: RawProxy, key: ProxyKey, text: string): void {
  if (key === "include_path" || key === "exclude_path") {
    const list = raw[key];
    list[list.length - 1] += text;
  } else {
    raw[key] = (raw[key] ?? "") + text;
  }
}
