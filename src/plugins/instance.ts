/**
 * One loaded plugin instance: its sandbox, the hooks it uses, its failure
 * policy and its counters. Every call goes through `invoke`, which applies
 * the deadline, counts, and disables the plugin after too many failures in a
 * row. A disabled plugin fails every call, so its failure mode still holds:
 * a disabled redaction (closed) drops records rather than writing them raw.
 */
import type { HookContext } from "../core/hooks.ts";
import type { Logger } from "../shared/logger.ts";
import type { PluginMetrics } from "./metrics.ts";
import type { CallExtras, PluginSandbox } from "./sandbox.ts";
import { Reads } from "./reads.ts";
import { type FailMode, type FailureKind, type PluginLimits, type PluginManifest, TEXT_BODY_TYPES } from "./types.ts";
import { type HookName } from "../core/hooks.ts";
import { mediaTypeMatches } from "./media-type.ts";

/** What a hook call returned, or why it failed. */
export type HookOutcome = { ok: true; value: unknown } | { ok: false; kind: FailureKind; message: string };

/** Receives what a plugin passes to `emit`. */
export type EmitHandler = (plugin: PluginInstance, data: unknown, context: HookContext) => void;

/** Largest `emit` payload accepted, as JSON text. */
const MAX_EMIT_CHARS = 1024 * 1024;

export interface PluginInstanceOptions {
  id: string;
  manifest: PluginManifest;
  fail: FailMode;
  limits: PluginLimits;
  /** Proxy names it applies to; undefined means every proxy. */
  routes: readonly string[] | undefined;
  /** The hooks this instance uses. */
  hooks: readonly HookName[];
  bodyContentTypes: readonly string[] | undefined;
  /** What the hooks read; default everything. */
  reads?: Reads;
  metrics: PluginMetrics;
  logger: Logger;
}

/** A plugin instance ready to be called. */
export class PluginInstance {
  readonly id: string;
  readonly manifest: PluginManifest;
  readonly fail: FailMode;
  readonly limits: PluginLimits;
  readonly routes: readonly string[] | undefined;
  readonly hooks: ReadonlySet<HookName>;
  readonly bodyContentTypes: readonly string[];
  readonly reads: Reads;
  readonly metrics: PluginMetrics;
  readonly #logger: Logger;
  #sandbox: PluginSandbox | undefined;
  #failuresInRow = 0;
  #failuresLogged = 0;
  #context: HookContext | undefined;
  #onEmit: EmitHandler | undefined;

  constructor(options: PluginInstanceOptions) {
    this.id = options.id;
    this.manifest = options.manifest;
    this.fail = options.fail;
    this.limits = options.limits;
    this.routes = options.routes;
    this.hooks = new Set(options.hooks);
    this.bodyContentTypes = options.bodyContentTypes ?? TEXT_BODY_TYPES;
    this.reads = options.reads ?? Reads.ALL;
    this.metrics = options.metrics;
    this.#logger = options.logger;
  }

  /** Connects the sandbox this instance calls (done once by the loader). */
  attach(sandbox: PluginSandbox, onEmit: EmitHandler | undefined): void {
    this.#sandbox = sandbox;
    this.#onEmit = onEmit;
  }

  get disabled(): boolean {
    return this.metrics.disabled === 1;
  }

  /** Whether the instance applies to a proxy. */
  appliesTo(routeName: string): boolean {
    return this.routes === undefined || this.routes.includes(routeName);
  }

  /** Whether the body hooks want a body of this content type. */
  wantsBody(contentType: string | undefined): boolean {
    if (contentType === undefined) return false;
    return this.bodyContentTypes.some((pattern) => mediaTypeMatches(contentType, pattern));
  }

  /**
   * Called by the sandbox host function: turns `emit(data)` during a hook
   * call into a custom record of the exchange being handled.
   */
  emit(json: string): void {
    const context = this.#context;
    if (!context || !this.#onEmit) return;
    if (json.length > MAX_EMIT_CHARS) {
      this.#logger.warn("plugin emit dropped: data too large", { plugin: this.id, chars: json.length });
      this.metrics.recordsDropped++;
      return;
    }
    this.metrics.emitted++;
    this.#onEmit(this, JSON.parse(json), context);
  }

  /** Called by the sandbox host function `log(level, message)`. */
  log(level: string, message: string): void {
    const text = message.length > 2000 ? message.slice(0, 2000) + "…" : message;
    const fields = { plugin: this.id, message: text };
    if (level === "error") this.#logger.error("plugin log", fields);
    else if (level === "warn") this.#logger.warn("plugin log", fields);
    else if (level === "debug") this.#logger.debug("plugin log", fields);
    else this.#logger.info("plugin log", fields);
  }

  /** Waits while the sandbox is rebuilt after running out of memory (observe hooks can wait). */
  whenReady(): Promise<void> {
    return this.#sandbox?.whenReady() ?? Promise.resolve();
  }

  /** Calls a hook with `argsJson` (a JSON array) and `extra` (lifted texts, the record) under the hook's deadline. */
  invoke(hook: HookName, argsJson: string, context: HookContext, extra: CallExtras = {}): HookOutcome {
    const metrics = this.metrics;
    metrics.calls[hook] = (metrics.calls[hook] ?? 0) + 1;
    const sandbox = this.#sandbox;
    if (this.disabled || !sandbox) return { ok: false, kind: "disabled", message: "plugin is disabled" };
    // A batch shares one deadline: one crossing blocks the event loop as long as one record may.
    const timeout = hook === "onCapture" || hook === "onCaptureBatch" ? this.limits.captureMs : this.limits.hookMs;
    this.#context = context;
    const started = performance.now();
    const outcome = sandbox.call(hook, argsJson, timeout, extra);
    metrics.seconds += (performance.now() - started) / 1000;
    this.#context = undefined;
    if (outcome.ok) {
      this.#failuresInRow = 0;
      return outcome;
    }
    // Calls while the sandbox is rebuilt follow the failure mode but are not
    // the plugin's failures: a burst of them must not disable it.
    if (outcome.kind === "unavailable") {
      metrics.unavailable++;
      return outcome;
    }
    this.failed(hook, outcome.kind, outcome.message);
    return outcome;
  }

  /**
   * Counts a failure (also used when the host rejects what a hook returned)
   * and disables the plugin when failures keep coming.
   */
  failed(hook: HookName, kind: FailureKind, message: string): void {
    const metrics = this.metrics;
    if (kind === "timeout") metrics.timeouts++;
    else if (kind === "oom") metrics.outOfMemory++;
    else if (kind !== "disabled") metrics.errors++;
    // A plugin failing on every request must not flood the log: the first
    // failures are logged, then one in a thousand (the metrics count them all).
    const logged = ++this.#failuresLogged;
    if (logged <= 20 || logged % 1000 === 0) {
      this.#logger.warn("plugin hook failed", { plugin: this.id, hook, kind, message, fail: this.fail, count: logged });
    }
    if (++this.#failuresInRow >= this.limits.failures && !this.disabled) {
      metrics.disabled = 1;
      this.#logger.error("plugin disabled after repeated failures", {
        plugin: this.id,
        failures: this.#failuresInRow,
        fail: this.fail,
      });
    }
  }

  /** Frees the sandbox. */
  dispose(): void {
    this.#sandbox?.dispose();
    this.#sandbox = undefined;
  }
}
