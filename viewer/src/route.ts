/**
 * Where the page is, in the URL's fragment (never sent to the server):
 * `#/` the list, `#/trace/<id>` a trace, `#/plugins` the plugins page.
 */
import { useEffect, useState } from "preact/hooks";

export type Route = { page: "list" } | { page: "trace"; id: string } | { page: "plugins" };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "");
  if (path.startsWith("/trace/")) return { page: "trace", id: decodeURIComponent(path.slice("/trace/".length)) };
  if (path === "/plugins") return { page: "plugins" };
  return { page: "list" };
}

export function hrefOf(route: Route): string {
  switch (route.page) {
    case "trace":
      return `#/trace/${encodeURIComponent(route.id)}`;
    case "plugins":
      return "#/plugins";
    default:
      return "#/";
  }
}

/** The current route, updated on every fragment change. */
export function useRoute(): Route {
  const [route, setRoute] = useState(parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}

export function go(route: Route): void {
  location.hash = hrefOf(route);
}
