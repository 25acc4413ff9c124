/**
 * The plain-data views hooks see, built from the core's raw heads. Built once
 * per exchange and only when a plugin uses a hook that needs them.
 */
import type { RawHeaders } from "../shared/raw-headers.ts";
import type { PluginHeaders, RequestView, ResponseHead, ResponseView } from "./hooks.ts";
import type { InboundRequest } from "./route-context.ts";

/** Raw headers as plugins see them: lower-case names, repeated values joined with ", ". */
export function pluginHeaders(raw: RawHeaders): PluginHeaders {
  const headers: PluginHeaders = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous}, ${value}`;
  }
  return headers;
}

/**
 * The request as plugins see it.
 *
 * @example
 * requestView("id-1", "api", { method: "GET", target: "/a?b=1", headers: [], clientIp: "::1", clientPort: 1, secure: false });
 * // { id: "id-1", route: "api", method: "GET", url: "/a?b=1", path: "/a", query: "b=1", headers: {}, client_ip: "::1" }
 */
export function requestView(id: string, routeName: string, request: InboundRequest): RequestView {
  const target = request.target;
  const queryAt = target.indexOf("?");
  return {
    id,
    route: routeName,
    method: request.method,
    url: target,
    path: queryAt === -1 ? target : target.slice(0, queryAt),
    query: queryAt === -1 ? "" : target.slice(queryAt + 1),
    headers: pluginHeaders(request.headers),
    client_ip: request.clientIp,
  };
}

/** A response head as plugins see it. */
export function responseView(head: ResponseHead): ResponseView {
  return { status: head.status, status_text: head.statusText, headers: pluginHeaders(head.headers) };
}
