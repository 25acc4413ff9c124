import { Hono } from "hono";
import type { Metrics } from "../core/metrics.ts";
import type { PluginMetrics } from "../plugins/metrics.ts";
import { type BuildInfo, renderPrometheus } from "./prometheus.ts";
import { formatUptime } from "./uptime.ts";

/** What the admin API reads. */
export interface AdminOptions {
  metrics: Metrics;
  build: BuildInfo;
  proxyCount: number;
  healthPath: string;
  metricsPath: string;
  /** Counters of the plugins loaded now (a reload changes the set). */
  plugins?: () => readonly PluginMetrics[];
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
  return app;
}
