import { CustomCapture } from "../capture/custom-capture.ts";
import { MemoryBudget } from "../capture/memory-budget.ts";
import { CapturePipeline } from "../capture/pipeline.ts";
import type { Config, ProxyConfig } from "../config/types.ts";
import type { ListenAddress } from "../runtime/types.ts";
import { ActivityTracker } from "../core/activity.ts";
import { describeError } from "../shared/describe-error.ts";
import { ListenFailedError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { Metrics } from "../core/metrics.ts";
import { Route } from "../core/route.ts";
import { PluginGenerations } from "../plugins/generations.ts";
import type { EmitHandler, PluginInstance } from "../plugins/instance.ts";
import { dataDirOf, openPackStore } from "./pack-store.ts";
import { createPackControl } from "./pack-control.ts";
import { createPluginControl, RUNTIME_PLUGINS_FILE } from "./plugin-control.ts";
import { dirOf, savedPluginSet, sourceHash } from "./plugin-files.ts";
import { reloadFromFiles, watchPluginFiles } from "./plugin-reload.ts";
import { loadPlugins } from "../plugins/loader.ts";
import type { Listener, ProxyServer, Runtime } from "../runtime/types.ts";
import type { S3Uploader } from "../s3/uploader.ts";
import { loadAdminAccess } from "./admin-access.ts";
import { createArchive } from "./archive.ts";
import { openSinks, sinkSettings } from "./sinks.ts";
import { CaptureThread } from "./thread-sinks.ts";
import { TailHub } from "../traces/tail.ts";
import type { CaptureRecord } from "../shared/record.ts";
import { TraceStore } from "../traces/trace-store.ts";
import { withoutCredentials } from "../shared/url-credentials.ts";
import type { PluginMetrics } from "../plugins/metrics.ts";
import { primarySinks, startReporting, workerReport } from "./worker-link.ts";
import { portableDeclaration, type PrimaryMessage, type WorkerMessage } from "./worker-messages.ts";
import { startWorkers, workerCount, type Workers, workerSetup } from "./worker-primary.ts";
import { VERSION } from "../version.ts";
import { loadTlsMaterial } from "./tls-material.ts";
import { loadGrpcDescriptors } from "./grpc-descriptors.ts";
import { GrpcDecoderSlot } from "../capture/grpc-decoder.ts";

/** A started tapline: its listeners and how to stop it. */
export interface RunningTapline {
  metrics: Metrics;
  /** Every bound listener, with the real port when 0 was asked for. */
  listening: BoundListener[];
  /** Stops listening, waits for in-flight exchanges (bounded), flushes every record. */
  shutdown(reason: string): Promise<void>;
}

/** One bound listener of a started tapline. */
export interface BoundListener {
  kind: "proxy" | "admin";
  /** The proxy's name (proxy listeners only). */
  route?: string;
  scheme: "http" | "https";
  /** `host:port` as bound. */
  address: string;
}

/** The error for a listener on `address` (as written) that could not open. */
export function listenFailed(what: string, address: string, error: unknown): ListenFailedError {
  const code = (error as { code?: string }).code;
  const why = code === "EADDRINUSE" ? "address already in use" : describeError(error);
  return new ListenFailedError(`Failed to listen on ${address} for ${what}: ${why}`, address, { cause: error });
}

async function bind(what: string, address: ListenAddress, start: () => Promise<Listener>): Promise<Listener> {
  try {
    return await start();
  } catch (error) {
    throw listenFailed(what, address.text, error);
  }
}

/** How long a replaced plugin set waits for its streams unless `--plugin-drain-timeout` says otherwise. */
const DEFAULT_PLUGIN_DRAIN_MS = 10 * 60 * 1000;

/** What a started tapline runs on. */
export interface StartContext {
  runtime: Runtime;
  logger: Logger;
  /** The YAML config file, when there is one: relative plugin paths sent to the admin API resolve next to it. */
  configFile?: string;
  /** The command line it was started with: `--workers` run it again in each worker. */
  argv?: readonly string[];
  /** The program's main module (a file URL): `--capture-thread` runs it as the capture thread. */
  entry?: string;
}

/** Starts every proxy of `config` (and the admin port) on `context.runtime`. */
export async function startTapline(config: Config, context: StartContext): Promise<RunningTapline> {
  const { runtime, logger } = context;
  // With --workers, workers forward and capture; the primary writes every record, serves the admin port, archives
  // and reloads plugins from files (and passes every new set on).
  const parent = runtime.cluster.parent;
  const worker = parent ? workerSetup(runtime.env()) : undefined;
  if (worker) {
    const { listenAdmin: _admin, s3Bucket: _s3, ...forwarding } = config;
    config = { ...forwarding, watch: false };
  }
  const primary = worker === undefined && workerCount(config, runtime) > 1;
  let workers: Workers | undefined;
  // A worker's listening and ready lines would repeat the primary's.
  const announce = worker ? logger.debug.bind(logger) : logger.info.bind(logger);
  const metrics = new Metrics();
  const activity = new ActivityTracker();
  const budget = new MemoryBudget(config.captureMemoryBudget);
  // Live records for GET /api/tail: a bounded ring and per-subscriber buffers, fed by the capture writer.
  const tail = new TailHub();
  const traceStreams = new Set<() => void>();
  // Descriptors load before anything listens: a file that does not parse stops start-up.
  const descriptorFiles = config.grpcDescriptors ?? [];
  const readDescriptors = () => loadGrpcDescriptors(descriptorFiles, (path) => runtime.fs.readFile(path));
  // A slot: a plugin reload reads the files again and swaps what records and hooks decode with.
  const grpc = descriptorFiles.length > 0 ? new GrpcDecoderSlot(await readDescriptors()) : undefined;
  if (grpc) logger.info("grpc descriptors", { files: descriptorFiles.length, methods: grpc.methods });
  const pipeline = new CapturePipeline({
    queueSize: config.captureQueueSize,
    flushInterval: config.flushInterval,
    recordContext: {
      maxBodySize: config.maxBodySize,
      decompress: runtime.decompress,
      base64: runtime.base64,
      ...(grpc ? { grpc } : {}),
    },
    logger,
    ...(runtime.collectGarbageHint ? { collectGarbageHint: runtime.collectGarbageHint } : {}),
    // Only an admin port has a tail to feed; without one no records are kept.
    ...(config.listenAdmin ? { onRecords: (records: readonly CaptureRecord[]) => tail.publish(records) } : {}),
  });
  metrics.queueDepth = () => pipeline.depth;
  metrics.captureMemoryUsed = () => budget.used;

  // Admin tokens and plugins load first: a bad token file, or a plugin that does not compile or is misconfigured,
  // stops start-up before any capture file opens.
  const adminAccess = config.listenAdmin ? await loadAdminAccess(config, { runtime, logger }) : undefined;
  const routesByName = new Map<string, Route>();
  const onEmit: EmitHandler = (plugin, data, context) => {
    const route = routesByName.get(context.routeName);
    if (!route || route.deps.sinks.length === 0) return;
    const capture = new CustomCapture({
      routeName: route.name,
      plugin: plugin.id,
      connectionId: context.connectionId,
      generation: context.generation,
      data,
    });
    pipeline.submit({ capture, sinks: route.deps.sinks, metrics: route.deps.metrics });
  };
  const routes: Route[] = [];
  const dataDir = dataDirOf(config, runtime);
  const packs = await openPackStore(config, runtime, logger);
  const savedPlugins = `${dataDir}/${RUNTIME_PLUGINS_FILE}`;
  const proxyNames = config.proxies.map((proxy) => proxy.name);
  const startPlugins = await savedPluginSet({ file: savedPlugins, proxyNames, runtime, logger }) ?? config.plugins;
  const hashes = new WeakMap<PluginInstance, string>();
  const generations = await PluginGenerations.start(startPlugins, {
    routeNames: proxyNames,
    routes: () => routes,
    load: async (declarations) => {
      const instances = await loadPlugins(declarations, {
        readTextFile: runtime.readTextFile,
        logger,
        onEmit,
        resolvePack: (ref) => packs.resolve(ref),
      });
      for (const [index, instance] of instances.entries()) {
        hashes.set(instance, await sourceHash(declarations[index]!, runtime, packs));
      }
      return instances;
    },
    // Twice: records that onCapture hooks emit during the first flush.
    settle: async () => {
      await pipeline.flush();
      await pipeline.flush();
    },
    drainTimeoutMs: config.pluginDrainTimeout ?? DEFAULT_PLUGIN_DRAIN_MS,
    logger,
    ...(grpc
      ? {
        prepareSwap: async () => {
          let next;
          try {
            next = await readDescriptors();
          } catch (error) {
            // The primary read and checked these files before it passed the set on: a worker that cannot read them
            // now (a file being rewritten) keeps its descriptors rather than run a different plugin set.
            if (worker === undefined) throw error;
            logger.warn("gRPC descriptors not reloaded in this worker; the running ones stay", {
              error: describeError(error),
            });
            return () => {};
          }
          return () => {
            grpc.swap(next);
            logger.info("grpc descriptors reloaded", { files: descriptorFiles.length, methods: next.methods });
          };
        },
      }
      : {}),
    onReplace: (generation) =>
      workers?.pool.broadcast({ type: "plugins", declarations: generation.declarations.map(portableDeclaration) }),
  });
  const pluginFiles = {
    generations,
    configFile: context.configFile,
    savedFile: savedPlugins,
    proxyNames,
    descriptorFiles,
    runtime,
    logger,
  };
  const disposePlugins = () => generations.close();
  for (const plugin of generations.current.instances) {
    logger.info("plugin loaded", {
      plugin: plugin.id,
      name: plugin.manifest.name,
      version: plugin.manifest.version,
      hooks: [...plugin.hooks],
      fail: plugin.fail,
      routes: plugin.routes ?? "all",
    });
  }

  let uploader: S3Uploader | undefined;
  let sinks: Awaited<ReturnType<typeof openSinks>>;
  try {
    if (config.captureThread && !parent && context.entry === undefined) {
      logger.warn("capture_thread is not available in this command; captures are written in the forwarding thread");
    }
    sinks = parent
      ? primarySinks(config, parent)
      : config.captureThread && context.entry !== undefined
      ? await CaptureThread.start(
        { runtime, logger, uploader: () => uploader, entry: context.entry },
        sinkSettings(config),
      )
      : await openSinks(config, { runtime, logger, uploader: () => uploader });
    if (sinks.captureThreadRestarts) metrics.captureThread = { restarts: sinks.captureThreadRestarts };
  } catch (error) {
    disposePlugins();
    throw error;
  }
  try {
    uploader = await createArchive(config, { runtime, logger, livePaths: () => sinks.paths, dataDir });
  } catch (error) {
    await Promise.all(sinks.all.map((sink) => sink.close()));
    disposePlugins();
    throw error;
  }
  if (uploader) {
    metrics.s3 = uploader.metrics;
    await uploader.start();
    logger.info("archiving", { bucket: config.s3Bucket, prefix: config.s3Prefix, endpoint: config.s3Endpoint });
  }

  // Workers share the primary's certificate (with --auto-cert each would make its own).
  const tls = worker ? worker.tls : await loadTlsMaterial(config, runtime.readTextFile);
  const listeners: Listener[] = [];
  const listening: BoundListener[] = [];
  const servers: ProxyServer[] = [];
  const proxyListening = (
    proxy: ProxyConfig,
    scheme: "http" | "https",
    address: string,
    workerCount?: number,
    http2?: boolean,
  ) => {
    listening.push({ kind: "proxy", route: proxy.name, scheme, address });
    announce("listening", {
      kind: "proxy",
      route: proxy.name,
      scheme,
      address,
      upstream: withoutCredentials(proxy.upstream),
      log_jsonl: proxy.logJsonl,
      log_sqlite: proxy.logSqlite,
      ...(workerCount === undefined ? {} : { workers: workerCount }),
      ...(http2 === undefined ? {} : { http2 }),
    });
  };
  const closeStarted = async () => {
    // Workers already started (the admin port failed to bind after them) stop with the rest.
    await workers?.pool.stop();
    for (const listener of listeners) await listener.stop();
    for (const listener of listeners) listener.closeAll();
    await Promise.all(servers.map((server) => server.close()));
    await Promise.all(sinks.all.map((sink) => sink.close().catch(() => {})));
    await uploader?.close(0);
    disposePlugins();
  };
  try {
    for (const proxy of primary ? [] : config.proxies) {
      const route = new Route(proxy, {
        maxBodySize: config.maxBodySize,
        budget,
        pipeline,
        sinks: sinks.byProxy.get(proxy.name) ?? [],
        metrics: metrics.route(proxy.name),
        activity,
        ...(grpc ? { grpc } : {}),
      }, generations.current.chains.get(proxy.name));
      routes.push(route);
      routesByName.set(proxy.name, route);
      const server = runtime.createProxyServer(route, {
        insecureSkipVerify: config.insecureSkipVerify,
        sharedListeners: worker !== undefined,
        http2: runtime.http2 && proxy.http2 !== false,
        upstreamProto: runtime.http2 ? proxy.upstreamProto ?? "auto" : "h1",
      });
      servers.push(server);
      if (proxy.upstreamProto === "h2" && !runtime.http2) {
        logger.warn(
          `upstream_proto=h2 cannot be honoured on ${runtime.name}: requests reach the upstream as HTTP/1.1`,
          { route: proxy.name },
        );
      }
      const endpoints: Array<["http" | "https", ListenAddress]> = [];
      if (proxy.listenHttp) endpoints.push(["http", proxy.listenHttp]);
      if (proxy.listenHttps) endpoints.push(["https", proxy.listenHttps]);
      for (const [scheme, configured] of endpoints) {
        const address = worker ? worker.listen(proxy.name, scheme, configured) : configured;
        const listener = await bind(
          `proxy "${proxy.name}"`,
          address,
          () => server.listen(address, scheme === "https" ? tls : undefined),
        );
        listeners.push(listener);
        if (proxy.http2 === true && !listener.http2) {
          logger.warn(`http2=on cannot be honoured on ${runtime.name}: the listener answers HTTP/1.1 only`, {
            route: proxy.name,
            scheme,
          });
        }
        proxyListening(proxy, scheme, listener.address, undefined, listener.http2);
      }
    }
    if (primary) {
      workers = await startWorkers(config, {
        runtime,
        logger,
        metrics,
        argv: context.argv ?? runtime.args(),
        sinks: sinks.byProxy,
        tls,
        ...(config.listenAdmin ? { onRecords: (records: readonly CaptureRecord[]) => tail.publish(records) } : {}),
      });
      for (const { route, scheme, address } of workers.listening) {
        proxyListening(config.proxies.find((p) => p.name === route)!, scheme, address, workers.pool.pids.length);
      }
    }
    if (config.listenAdmin) {
      // Hono loads only when there is an admin port.
      const { createAdminApp } = await import("../admin/app.ts");
      const { viewerUrl } = await import("../admin/viewer.ts");
      const app = createAdminApp({
        metrics,
        build: { version: VERSION, runtime: runtime.name, runtimeVersion: runtime.version },
        proxyCount: config.proxies.length,
        healthPath: config.healthPath,
        metricsPath: config.metricsPath,
        plugins: () => ({
          instances: generations.current.instances.map((plugin) =>
            workers
              ? workers.writer.pluginCounters(plugin.id, plugin.metrics) as unknown as PluginMetrics
              : plugin.metrics
          ),
          generation: generations.current.number,
          live: generations.live,
          reloads: generations.reloads,
        }),
        pluginControl: createPluginControl({
          generations,
          configured: config.plugins,
          baseDir: context.configFile === undefined ? runtime.cwd() : dirOf(context.configFile),
          proxyNames,
          savedFile: savedPlugins,
          sourceHash: (instance) => hashes.get(instance) ?? "",
          packs,
          runtime,
          logger,
        }),
        packControl: createPackControl(packs, generations),
        traces: {
          store: new TraceStore(runtime.fs, sinks.readable),
          tail,
          exportMaxBytes: config.exportMaxSize,
          version: VERSION,
          closers: traceStreams,
        },
        access: adminAccess,
        viewer: config.adminViewer,
        metricsCompat: config.metricsCompat,
      });
      const address = config.listenAdmin;
      const listener = await bind("the admin API", address, () => runtime.serveFetch(app.fetch, address));
      listeners.push(listener);
      listening.push({ kind: "admin", scheme: "http", address: listener.address });
      logger.info("listening", {
        kind: "admin",
        address: listener.address,
        ...(config.adminViewer ? { viewer: viewerUrl(listener.address) } : {}),
      });
    }
  } catch (error) {
    await closeStarted();
    throw error;
  }

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) =>
    stopping ??= (async () => {
      logger.info("shutting down", { reason, in_flight: activity.active });
      stopWatching?.();
      // Tail and replay streams have no natural end: they end here so the admin listener can stop.
      tail.closeAll();
      for (const close of traceStreams) close();
      for (const listener of listeners) await listener.stop();
      // Workers drain their own exchanges, then send their last records.
      await workers?.pool.stop();
      await workers?.writer.drain();
      for (const server of servers) server.drain();
      // WebSockets have no natural end: both sides get a 1001 close, which shutdown then waits for.
      for (const route of routes) route.closeWebSockets();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await Promise.race([
        activity.whenIdle().then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), config.shutdownTimeout))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        logger.warn("shutdown timeout reached, closing remaining connections", {
          in_flight: activity.active,
        });
      }
      for (const listener of listeners) listener.closeAll();
      await pipeline.flush();
      // Records emitted by onCapture hooks during that flush.
      await pipeline.flush();
      for (const sink of sinks.all) {
        await sink.close().catch((error) => logger.error("Failed to close a capture sink", { sink: sink.name, error }));
      }
      await Promise.all(servers.map((server) => server.close()));
      if (uploader && !(await uploader.close(config.shutdownTimeout))) {
        logger.warn("uploads still in progress at shutdown; the files stay for the next start", {
          pending: uploader.metrics.filesPending,
        });
      }
      let written = 0;
      let dropped = 0;
      for (const route of metrics.routes.values()) {
        written += route.recordsWritten;
        for (const count of Object.values(route.captureDropped)) dropped += count;
      }
      disposePlugins();
      await stopReporting?.();
      if (parent) {
        // Messages arrive in order: once the primary reads this, it has every record of this worker.
        await parent.send({ type: "done" } satisfies WorkerMessage).catch(() => {});
        // Exiting before the channel has written them would lose them (Deno calls back before it writes):
        // closing the channel waits for what is queued.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5_000);
          parent.onDisconnect(() => {
            clearTimeout(timer);
            resolve();
          });
          parent.disconnect();
        });
      }
      announce("stopped", { records_written: written, records_dropped: dropped });
    })();

  // SIGHUP reloads the plugins from their files, as a restart would load them (in a worker: the primary does).
  if (!worker) runtime.onReloadSignal(() => void reloadFromFiles(pluginFiles, "SIGHUP"));
  const stopWatching = config.watch ? await watchPluginFiles(pluginFiles) : undefined;
  const stopReporting = parent ? startReporting(parent, () => workerReport(metrics, generations)) : undefined;
  parent?.onMessage((raw) => {
    const message = raw as PrimaryMessage;
    if (message?.type === "stop") void shutdown("the primary is stopping").then(() => runtime.exit(0));
    if (message?.type === "plugins") {
      generations.replace(message.declarations).catch((error) =>
        logger.error("Failed to apply the primary's plugin set in a worker", { worker: parent.index, error })
      );
    }
  });
  // A worker never outlives its primary (one killed with SIGKILL cannot stop it): it stops as on SIGTERM.
  parent?.onDisconnect(() => void shutdown("the primary is gone").then(() => runtime.exit(0)));
  await parent?.send({ type: "ready" } satisfies WorkerMessage);

  announce("ready", {
    version: VERSION,
    runtime: runtime.name,
    runtime_version: runtime.version,
    proxies: config.proxies.length,
    ...(workers ? { workers: workers.pool.pids.length } : {}),
  });
  return { metrics, listening, shutdown };
}
