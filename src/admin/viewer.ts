/**
 * The web viewer at `/ui/`: one page, a stylesheet and a script, embedded in
 * the module graph (scripts/build-viewer.js) so single binaries serve it too.
 *
 * Served without a token, by design: the files hold no captured data and no
 * secret, and a browser cannot send a bearer header when it navigates. All
 * data comes from the read API with the token the user pastes into the page
 * (kept in sessionStorage, sent as `Authorization: Bearer`). The Host check
 * still applies, so a rebinding page cannot load it under a foreign name.
 *
 * The Content-Security-Policy allows only the viewer's own script and
 * stylesheet (no inline script or style, no other origin): even a captured
 * body that slipped into markup could not run.
 */
import type { Context, Hono } from "hono";
import type { AdminEnv } from "./auth.ts";
import { VIEWER_ASSETS, type ViewerAsset } from "./viewer-assets.ts";

/** Where the viewer is served. */
export const VIEWER_PATH = "/ui/";

export const VIEWER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "Content-Security-Policy": VIEWER_CSP,
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  // Revalidated every time (cheap: ETag), so an upgrade never serves a stale script.
  "Cache-Control": "no-cache",
};

function serve(c: Context, asset: ViewerAsset): Response {
  const headers = { ...SECURITY_HEADERS, ETag: asset.etag };
  const match = c.req.header("if-none-match");
  if (match !== undefined && match.split(",").some((tag) => tag.trim().replace(/^W\//, "") === asset.etag)) {
    return c.body(null, 304, headers);
  }
  return c.body(asset.body, 200, { ...headers, "Content-Type": asset.type });
}

/** Bind addresses that name no host a browser could use. */
const WILDCARD = /^(0\.0\.0\.0|\[::\]|::|)$/;

/**
 * The viewer's URL for a listener bound to `address` (`host:port`); a
 * wildcard bind gives the loopback address, which the Host check answers.
 *
 * @example viewerUrl("0.0.0.0:9090") // "http://127.0.0.1:9090/ui/"
 */
export function viewerUrl(address: string): string {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon);
  return `http://${WILDCARD.test(host) ? "127.0.0.1" : host}:${address.slice(colon + 1)}${VIEWER_PATH}`;
}

/**
 * Mounts `/ui` (redirect), `/ui/` and `/ui/assets/<file>` on the admin app,
 * before its token check.
 *
 * @example
 * app.use("*", checkHost(hosts));
 * viewerRoutes(app);
 * app.use("*", authenticate(tokens));
 */
export function viewerRoutes(app: Hono<AdminEnv>): void {
  app.get("/ui", (c) => c.redirect(VIEWER_PATH, 308));
  app.get(VIEWER_PATH, (c) => serve(c, VIEWER_ASSETS["index.html"]!));
  app.get(`${VIEWER_PATH}assets/:name`, async (c, next) => {
    const name = c.req.param("name");
    const asset = name === "index.html" ? undefined : VIEWER_ASSETS[name];
    if (asset === undefined) return await next();
    return serve(c, asset);
  });
}
