/**
 * Per-plugin counters, plain fields incremented on the hot path; the admin
 * port renders them with a `plugin` label (the instance id).
 */
import type { HookName } from "../core/hooks.ts";

/** Counters of one plugin instance. */
export class PluginMetrics {
  readonly plugin: string;
  /** Hook calls, by hook. */
  readonly calls: Partial<Record<HookName, number>> = {};
  /** Calls that threw (or returned something the host could not use). */
  errors = 0;
  /** Calls stopped at their deadline. */
  timeouts = 0;
  /** Calls that ran out of memory (the sandbox is rebuilt). */
  outOfMemory = 0;
  /** Calls made while the sandbox was being rebuilt after running out of memory (handled by the failure mode). */
  unavailable = 0;
  /** Seconds spent inside the sandbox. */
  seconds = 0;
  /** Records this plugin dropped: `null` from onCapture, or a closed failure. */
  recordsDropped = 0;
  /** Exchanges answered 502 because this plugin failed closed on a request hook. */
  requestsRefused = 0;
  /** Bodies the body hooks skipped: over the plugin's body limit, encoded or not text. */
  bodiesSkipped = 0;
  /** Custom records emitted. */
  emitted = 0;
  /** 1 once the plugin has been disabled after repeated failures. */
  disabled = 0;

  constructor(plugin: string) {
    this.plugin = plugin;
  }
}
