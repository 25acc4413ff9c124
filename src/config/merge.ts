/**
 * Merging layers (defaults < YAML < env < flags) and the checks that need the
 * whole picture: a proxy exists, listeners do not collide, TLS is complete.
 */
import { UsageError } from "../shared/errors.ts";
import { type ConfigLayer, failAt, type Origin, type PluginEntry, type ProxyEntry } from "./layer.ts";
import { formatListen } from "./listen.ts";
import { defaultGlobals, type GlobalKey } from "./options.ts";
import type { Config } from "./types.ts";
import type { ListenAddress } from "../runtime/types.ts";

/** Everything merged, with the origins of what the checks may complain about. */
export interface MergedConfig {
  config: Config;
  entries: ProxyEntry[];
  origins: Partial<Record<GlobalKey, Origin>>;
  plugins: PluginEntry[];
}

/**
 * Merge layers from lowest to highest precedence. Globals: a later layer wins
 * per key. Proxies: same name replaces (in place), new names append.
 */
export function mergeLayers(layers: readonly ConfigLayer[]): MergedConfig {
  const globals = defaultGlobals();
  const origins: Partial<Record<GlobalKey, Origin>> = {};
  const entries: ProxyEntry[] = [];
  let plugins: PluginEntry[] = [];
  let tokenLayer: ConfigLayer | undefined;
  let allowedHosts: string[] | undefined;
  let trustedKeys: string[] | undefined;
  let grpcDescriptors: string[] | undefined;
  for (const layer of layers) {
    Object.assign(globals, layer.globals);
    Object.assign(origins, layer.origins);
    if (layer.plugins) plugins = layer.plugins;
    if (layer.adminTokens !== undefined || layer.globals.adminTokenFile !== undefined) tokenLayer = layer;
    if (layer.adminAllowedHosts) allowedHosts = layer.adminAllowedHosts;
    if (layer.trustedKeys) trustedKeys = layer.trustedKeys;
    if (layer.grpcDescriptors) grpcDescriptors = layer.grpcDescriptors;
    for (const entry of layer.proxies) {
      const at = entries.findIndex((e) => e.proxy.name === entry.proxy.name);
      if (at >= 0) entries[at] = entry;
      else entries.push(entry);
    }
  }
  // The admin tokens are one setting: the highest source that names a token or a token file supplies all of
  // them, so a flag or variable replaces the tokens of the YAML file instead of adding a way in.
  if (tokenLayer?.globals.adminTokenFile === undefined) {
    delete globals.adminTokenFile;
    delete origins.adminTokenFile;
  }
  const config: Config = { ...globals, proxies: entries.map((e) => e.proxy), plugins: plugins.map((e) => e.plugin) };
  if (tokenLayer?.adminTokens) config.adminTokens = tokenLayer.adminTokens;
  if (allowedHosts) config.adminAllowedHosts = allowedHosts;
  if (trustedKeys) config.trustedKeys = trustedKeys;
  if (grpcDescriptors) config.grpcDescriptors = grpcDescriptors;
  return { config, entries, origins, plugins };
}

const WILDCARDS = new Set(["", "0.0.0.0", "::"]);

/** True when two listeners would fight over a port (port 0 never does). */
export function listenersOverlap(a: ListenAddress, b: ListenAddress): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  return a.host === b.host || WILDCARDS.has(a.host) || WILDCARDS.has(b.host);
}

/**
 * Cross-field checks on the merged config.
 *
 * @throws UsageError or ConfigError pointing at the value that is wrong.
 */
export function checkMerged({ config, entries, origins, plugins }: MergedConfig): void {
  if (entries.length === 0) {
    throw new UsageError(
      "No proxy configured: give at least one --proxy, a TAPLINE_PROXY variable or proxies in --config (see --help)",
    );
  }

  const listeners: { address: ListenAddress; what: string; origin: Origin }[] = [];
  const claim = (address: ListenAddress, what: string, origin: Origin) => {
    const other = listeners.find((l) => listenersOverlap(l.address, address));
    if (other) {
      failAt(
        origin,
        `listen address ${formatListen(address)} of ${what} conflicts with ${other.what} on ${
          formatListen(other.address)
        } (${other.origin.label})`,
      );
    }
    listeners.push({ address, what, origin });
  };
  if (config.listenAdmin) claim(config.listenAdmin, "the admin listener", origins.listenAdmin!);
  for (const { proxy, fieldOrigin } of entries) {
    if (proxy.listenHttp) claim(proxy.listenHttp, `proxy "${proxy.name}" listen_http`, fieldOrigin("listen_http"));
    if (proxy.listenHttps) claim(proxy.listenHttps, `proxy "${proxy.name}" listen_https`, fieldOrigin("listen_https"));
  }

  const hasCert = config.cert !== undefined;
  const hasKey = config.key !== undefined;
  if (hasCert && !hasKey) failAt(origins.cert!, "a certificate needs a key too (--key, TAPLINE_KEY or key)");
  if (hasKey && !hasCert) failAt(origins.key!, "a key needs a certificate too (--cert, TAPLINE_CERT or cert)");
  if (hasCert && config.autoCert) {
    failAt(origins.autoCert!, "give either a certificate (cert and key) or auto_cert, not both");
  }
  for (const { proxy, fieldOrigin } of entries) {
    if (proxy.listenHttps && !hasCert && !config.autoCert) {
      failAt(
        fieldOrigin("listen_https"),
        `proxy "${proxy.name}" listens for HTTPS but has no certificate: give --cert and --key, or --auto-cert`,
      );
    }
  }

  // Checked here, not in the YAML layer, because flags and TAPLINE_PROXY can add proxies.
  const names = entries.map((e) => e.proxy.name);
  for (const { plugin, routeOrigin } of plugins) {
    plugin.routes?.forEach((route, index) => {
      if (!names.includes(route)) {
        failAt(routeOrigin(index), `unknown proxy "${route}"; the proxies are ${names.join(", ")}`);
      }
    });
  }

  if (config.healthPath === config.metricsPath) {
    failAt(
      origins.metricsPath ?? origins.healthPath!,
      `the health and metrics paths must differ (both are "${config.healthPath}")`,
    );
  }
}
