/**
 * The admin listener answers only requests addressed to it by a name it
 * knows: a defence against DNS rebinding, where a web page re-points its own
 * host name at 127.0.0.1 and the browser then sends that page's name in
 * `Host`. Only the host name is compared: rebinding changes the name, while
 * the port is whatever the browser connected to (and port forwarding in
 * containers or `ssh -L` changes it legitimately).
 *
 * Allowed: localhost, 127.0.0.1, [::1], the host the listener is bound to
 * (unless it is a wildcard such as `:9090`), and YAML `admin.allowed_hosts`;
 * `*` there allows every name.
 */
import type { MiddlewareHandler } from "hono";
import { adminError } from "./reply.ts";

/** The host names the admin listener answers, or `any`. */
export type AllowedHosts = ReadonlySet<string> | "any";

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];
/** Bind addresses that mean every interface: they name no host a client could use. */
const WILDCARD_BINDS = new Set(["", "0.0.0.0", "::", "[::]"]);

/**
 * The names to allow for a listener bound to `listenHost` (as in ListenAddress.host).
 *
 * @example allowedHosts("", ["tapline.internal"]) // localhost, 127.0.0.1, [::1], tapline.internal
 */
export function allowedHosts(listenHost: string, extra: readonly string[]): AllowedHosts {
  if (extra.includes("*")) return "any";
  const names = new Set(LOOPBACK_NAMES);
  if (!WILDCARD_BINDS.has(listenHost)) names.add(normalizeHostName(listenHost));
  for (const name of extra) names.add(normalizeHostName(name));
  return names;
}

/** Lower case, no trailing dot, IPv6 in brackets: `Example.COM.` → `example.com`, `::1` → `[::1]`. */
export function normalizeHostName(name: string): string {
  let host = name.trim().toLowerCase();
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (host.includes(":") && !host.startsWith("[")) host = `[${host}]`;
  return host;
}

/** The host name of a `Host` header without its port, or undefined when the header is malformed. */
export function hostNameOf(header: string): string | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]\s]+)(?::\d{1,5})?$/.exec(header.trim());
  return match ? normalizeHostName(match[1]!) : undefined;
}

/** Whether a request with this `Host` header (undefined: none) may be answered. */
export function isHostAllowed(header: string | undefined, allowed: AllowedHosts): boolean {
  if (allowed === "any") return true;
  const name = header === undefined ? undefined : hostNameOf(header);
  return name !== undefined && allowed.has(name);
}

/**
 * Why an `admin.allowed_hosts` entry cannot be used, or undefined when it can.
 *
 * @example allowedHostProblem("tapline.internal:9090") // "must be a host name without a port, ..."
 */
export function allowedHostProblem(entry: string): string | undefined {
  if (entry === "*" || /^\[[0-9A-Fa-f:.]+\]$/.test(entry)) return undefined;
  if (entry.includes(":")) return 'must be a host name without a port; write IPv6 addresses in brackets, e.g. "[::1]"';
  if (!/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$/.test(entry)) {
    return 'must be a host name such as "tapline.internal", an IP address, or "*"';
  }
  return undefined;
}

/** Middleware: 403 `host_not_allowed` for a request whose `Host` is not allowed. */
export function checkHost(allowed: AllowedHosts): MiddlewareHandler {
  return async (c, next) => {
    if (!isHostAllowed(c.req.header("host"), allowed)) {
      return adminError(c, {
        status: 403,
        code: "host_not_allowed",
        message:
          "Host not allowed: the admin API answers only localhost, 127.0.0.1, [::1], its own address and the names in admin.allowed_hosts",
      });
    }
    await next();
  };
}
