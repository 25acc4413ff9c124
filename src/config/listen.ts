import type { ListenAddress } from "../runtime/types.ts";
import { shown } from "../shared/shown-value.ts";

const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/**
 * Parse a Go-style listen address: `:8080` (every interface), `127.0.0.1:8080`,
 * `localhost:8080`, `[::1]:8080`. Port 0 (any free port) is allowed.
 *
 * @example parseListen(":8080") // { host: "", port: 8080, text: ":8080" }
 * @throws Error naming the bad value.
 */
export function parseListen(text: string): ListenAddress {
  const bad = (why: string) => new Error(`Invalid listen address ${shown(text)}: ${why}`);
  const colon = text.lastIndexOf(":");
  if (colon < 0) throw bad('expected host:port, e.g. ":8080" or "127.0.0.1:8080"');
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw bad("port must be a number from 0 to 65535");
  }
  if (host.startsWith("[")) {
    if (!host.endsWith("]") || !host.slice(1, -1).includes(":")) throw bad("malformed IPv6 address");
    host = host.slice(1, -1);
    if (!/^[0-9A-Fa-f:.]+(%[\w.-]+)?$/.test(host)) throw bad("malformed IPv6 address");
  } else if (host.includes(":")) {
    throw bad('IPv6 addresses must be in brackets, e.g. "[::1]:8080"');
  } else if (host !== "" && !HOST_RE.test(host)) {
    throw bad("malformed host");
  }
  return { host, port: Number(portText), text };
}

/** Format an address for messages and URLs (`[::1]:8080`, `:8080`). */
export function formatListen(address: ListenAddress): string {
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}
