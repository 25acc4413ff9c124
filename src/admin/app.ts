import { Hono, type MiddlewareHandler } from "hono";
import type { Metrics } from "../core/metrics.ts";
import type { PluginControl } from "./plugin-control.ts";
import { pluginRoutes } from "./plugins-api.ts";
import type { PackControl } from "./pack-control.ts";
import { packRoutes } from "./packs-api.ts";
import { type AdminEnv, authenticate, requireScope } from "./auth.ts";
import { type AllowedHosts, checkHost } from "./host-check.ts";
import { type BuildInfo, type PluginSetMetrics, renderPrometheus } from "./prometheus.ts";
import { refuseQueryTokens } from "./query-token.ts";
import { adminError } from "./reply.ts";
import type { TokenStore } from "./tokens.ts";
import { formatUptime } from "./uptime.ts";
import { viewerRoutes } from "./viewer.ts";
import { whoamiRoute } from "./whoami.ts";
import { type TraceAccess, traceRoutes } from "./traces-api.ts";

/** Who may use the API routes: the tokens and the Host names answered. */
export interface AdminAccess {
  tokens: TokenStore;
  hosts: AllowedHosts;
}

/** What the admin API reads. */
export interface AdminOptions {
  metrics: Metrics;
  build: BuildInfo;
  proxyCount: number;
  healthPath: string;
  metricsPath: string;
  /** Counters of the plugin set running now (a reload changes it). */
  plugins?: () => PluginSetMetrics;
  /** The plugin control plane, served under `/api/plugins` (admin scope) when `access` is given. */
  pluginControl?: PluginControl;
  /** Installed plugin packs (`/api/packs`); absent: no pack routes. */
  packControl?: PackControl;
  /** Captures to read (`/api/traces`, `/api/export`, `/api/tail`, scope read); absent: no trace routes. */
  traces?: TraceAccess;
  /**
   * Tokens and Host names for everything but health and metrics. Without it
   * only health and metrics are served (no API route is ever unprotected);
   * the CLI always passes it.
   */
  access?: AdminAccess;
  /** Serve http-tap-proxy's series under its names too (default true). */
  metricsCompat?: boolean;
  /** Serve the web viewer at `/ui/` (default true; only with `access`, since it needs the API). */
  viewer?: boolean;
}

/**
 * The admin API, served only on `--listen-admin` (never on a proxy port, so
 * proxies stay transparent). In the order a request meets them:
 *
 * 1. a token in the query string: 400 (every path);
 * 2. health and metrics: open to every client and Host name, because probes
 *    and scrapers (Kubernetes, a remote Prometheus) reach them by IP address;
 * 3. the Host check (403), for every other path;
 * 4. the web viewer's files at `/ui/` (no data in them; see viewer.ts);
 * 5. bearer authentication (401, 403), for every other path, known or not;
 * 6. the API routes, each with `requireScope`; then 404.
 */
export function createAdminApp(options: AdminOptions): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const { access } = options;
  if (access) app.use("*", refuseQueryTokens(access.tokens));
  app.get(options.healthPath, (c) =>
    c.json({
      status: "healthy",
      version: options.build.version,
      uptime: formatUptime(Date.now() - options.metrics.startedAt),
      proxies: options.proxyCount,
      runtime: options.build.runtime,
    }));
  app.get(
    options.metricsPath,
    (c) =>
      c.body(
        renderPrometheus(options.metrics, options.build, {
          plugins: options.plugins?.(),
          compat: options.metricsCompat,
        }),
        200,
        {
          "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
        },
      ),
  );
  app.notFound((c) =>
    adminError(c, { status: 404, code: "not_found", message: `No admin route for ${c.req.method} ${c.req.path}` })
  );
  if (!access) return app;
  // Registered after health and metrics, whose handlers answer without calling on: these run for every other path.
  app.use("*", checkHost(access.hosts));
  // The viewer's files hold no data: served before the token check (see viewer.ts).
  if (options.viewer !== false) viewerRoutes(app);
  app.use("*", authenticate(access.tokens));
  whoamiRoute(app);
  if (options.pluginControl) {
    // A read token sees the running set and its counters (without configs, which may hold secrets).
    const listing = (path: string) => path === "/api/plugins" || path === "/api/plugins/";
    const pluginScope: MiddlewareHandler<AdminEnv> = (c, next) =>
      requireScope(c.req.method === "GET" && listing(c.req.path) ? "read" : "admin")(c, next);
    app.use("/api/plugins", pluginScope);
    app.use("/api/plugins/*", pluginScope);
    app.route("/api/plugins", pluginRoutes(options.pluginControl));
  }
  if (options.traces) {
    for (const path of ["/api/traces", "/api/traces/*", "/api/export", "/api/tail"]) {
      app.use(path, requireScope("read"));
    }
    app.route("/api", traceRoutes(options.traces));
  }
  if (options.packControl) {
    app.use("/api/packs", requireScope("admin"));
    app.use("/api/packs/*", requireScope("admin"));
    app.route("/api/packs", packRoutes(options.packControl));
  }
  return app;
}
