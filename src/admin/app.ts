import { Hono } from "hono";
import type { Metrics } from "../core/metrics.ts";
import type { PluginControl } from "./plugin-control.ts";
import { pluginRoutes } from "./plugins-api.ts";
import { type BuildInfo, type PluginSetMetrics, renderPrometheus } from "./prometheus.ts";
import { formatUptime } from "./uptime.ts";

/** What the admin API reads. */
export interface AdminOptions {
  metrics: Metrics;
  build: BuildInfo;
  proxyCount: number;
  healthPath: string;
  metricsPath: string;
  /** Counters of the plugin set running now (a reload changes it). */
  plugins?: () => PluginSetMetrics;
  /** The plugin control plane, served under `/api/plugins`. */
  pluginControl?: PluginControl;
}

/**
 * The admin API, served only on `--listen-admin` (never on a proxy port, so
 * proxies stay transparent): health and Prometheus metrics.
 */
export function createAdminApp(options: AdminOptions): Hono {
  const app = new Hono();
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
      c.body(renderPrometheus(options.metrics, options.build, options.plugins?.()), 200, {
        "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
      }),
  );
  if (options.pluginControl) app.route("/api/plugins", pluginRoutes(options.pluginControl));
  return app;
}
