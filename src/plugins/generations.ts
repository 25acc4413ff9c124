/**
 * The plugin control plane: which plugin set is running, and how a new one
 * replaces it. Build, then swap, then free (Caddy's validate-swap-save; the
 * caller saves after a successful swap): a new set is loaded in fresh
 * sandboxes and fully checked before anything changes, so a bad set leaves
 * the running one untouched, and the old set is freed only once the traffic
 * that began on it has ended and its records are written.
 */
import type { HookChain } from "../core/hooks.ts";
import { describeError } from "../shared/describe-error.ts";
import { ConfigError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { PluginGeneration } from "./generation.ts";
import type { PluginInstance } from "./instance.ts";
import type { PluginDeclaration } from "./types.ts";

/** A route whose plugins a swap replaces (the core's Route). */
export interface PluggableRoute {
  readonly name: string;
  plugins: HookChain | undefined;
}

/** One located problem of a rejected plugin set. */
export interface PluginSetProblem {
  /** The plugin id, when the problem belongs to one plugin. */
  plugin?: string;
  file?: string;
  line?: number;
  column?: number;
  field?: string;
  message: string;
}

/** A plugin set that failed its checks; nothing was changed. */
export class PluginSetError extends ConfigError {
  readonly problems: readonly PluginSetProblem[];

  constructor(problems: readonly PluginSetProblem[]) {
    // One problem reads as it always did at start-up; several go one per line.
    super(problems.map((problem) => problem.message).join("\n"), {}, "plugin_set_invalid");
    this.name = "PluginSetError";
    this.problems = problems;
  }
}

/** What the control plane needs from the process. */
export interface GenerationsOptions {
  /** Every route's name: a set has one chain per route some plugin applies to. */
  routeNames: readonly string[];
  /** The routes whose chains a swap replaces (created after the first set loaded). */
  routes: () => readonly PluggableRoute[];
  /** Loads declarations into instances in fresh sandboxes; throws a ConfigError naming what is wrong. */
  load: (declarations: readonly PluginDeclaration[]) => Promise<PluginInstance[]>;
  /** Resolves once every record submitted so far is written (so an old set's onCapture has run). */
  settle: () => Promise<void>;
  /**
   * How long a replaced set may wait for its last user, in ms; then the
   * streams still on it move to the newest set and it is freed.
   */
  drainTimeoutMs: number;
  logger: Logger;
  /**
   * Reads again what a set runs with besides its plugins (the gRPC
   * descriptors) for a reload or a validation: returns the step that puts it
   * in use, taken with the swap. A ConfigError rejects the set like a plugin's.
   */
  prepareSwap?: () => Promise<() => void>;
  /** Called after each swap with the new running set (the primary passes it on to its `--workers`). */
  onReplace?: (generation: PluginGeneration) => void;
}

/** Counts of reload attempts. */
export interface ReloadCounts {
  ok: number;
  rejected: number;
}

/** The running plugin set and the ones still draining. */
export class PluginGenerations {
  readonly reloads: ReloadCounts = { ok: 0, rejected: 0 };
  readonly #options: GenerationsOptions;
  readonly #live = new Set<PluginGeneration>();
  #current: PluginGeneration;
  /** Reloads run one at a time: a second waits for the first to swap. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(options: GenerationsOptions, first: PluginGeneration) {
    this.#options = options;
    this.#current = first;
    this.#live.add(first);
  }

  /**
   * Loads the set tapline starts with (generation 1); routes take their
   * chains from `current.chains` when they are created.
   *
   * @throws PluginSetError listing every plugin that failed.
   */
  static async start(
    declarations: readonly PluginDeclaration[],
    options: GenerationsOptions,
  ): Promise<PluginGenerations> {
    const { generation } = await build(declarations, { number: 1, options, prepare: false });
    return new PluginGenerations(options, generation);
  }

  /** The running set. */
  get current(): PluginGeneration {
    return this.#current;
  }

  /** Sets not yet freed: the running one and those still used by traffic that began on them. */
  get live(): number {
    return this.#live.size;
  }

  /**
   * Checks a set exactly as a reload would (fresh sandboxes, manifest,
   * config, compile, setup) and frees it; nothing changes.
   *
   * @throws PluginSetError listing every plugin that failed.
   */
  validate(declarations: readonly PluginDeclaration[]): Promise<void> {
    return this.#serial(async () => {
      const { generation } = await build(declarations, {
        number: this.#current.number + 1,
        options: this.#options,
        prepare: true,
      });
      generation.dispose();
    });
  }

  /**
   * Builds a set and makes it the running one: new exchanges get it, those
   * in flight finish on theirs. Returns the new generation.
   *
   * @throws PluginSetError listing every plugin that failed; the running set stays.
   */
  replace(declarations: readonly PluginDeclaration[]): Promise<PluginGeneration> {
    return this.#serial(async () => {
      let next: PluginGeneration;
      let companions: (() => void) | undefined;
      try {
        ({ generation: next, companions } = await build(declarations, {
          number: this.#current.number + 1,
          options: this.#options,
          prepare: true,
        }));
      } catch (error) {
        this.reloads.rejected++;
        throw error;
      }
      const previous = this.#current;
      companions?.();
      this.#current = next;
      this.#live.add(next);
      this.#install(next);
      this.reloads.ok++;
      this.#options.logger.info("plugins reloaded", {
        generation: next.number,
        plugins: next.instances.map((plugin) => plugin.id),
      });
      void this.#free(previous);
      this.#options.onReplace?.(next);
      return next;
    });
  }

  /** Frees every set, for shutdown. */
  close(): void {
    for (const generation of this.#live) generation.dispose();
    this.#live.clear();
  }

  #install(generation: PluginGeneration): void {
    for (const route of this.#options.routes()) route.plugins = generation.chains.get(route.name);
  }

  async #free(generation: PluginGeneration): Promise<void> {
    const number = generation.number;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      generation.retire().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.#options.drainTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.#options.logger.warn("plugin drain timeout reached: streams move to the newest plugin set", {
        generation: number,
        users: generation.users,
        to: this.#current.number,
      });
      generation.moveTo(this.#current);
    }
    // The records of its last users may still wait for their onCapture in the writer.
    await this.#options.settle();
    generation.dispose();
    this.#live.delete(generation);
    this.#options.logger.info("plugin generation freed", { generation: number });
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => {});
    return run;
  }
}

/**
 * Loads every declaration on its own, so one bad plugin does not hide the
 * next one's problem; with `prepare`, also what the set runs with
 * (`prepareSwap`), whose step to put it in use is returned.
 */
async function build(
  declarations: readonly PluginDeclaration[],
  { number, options, prepare }: { number: number; options: GenerationsOptions; prepare: boolean },
): Promise<{ generation: PluginGeneration; companions?: () => void }> {
  const instances: PluginInstance[] = [];
  const problems: PluginSetProblem[] = [];
  let companions: (() => void) | undefined;
  try {
    if (prepare) companions = await options.prepareSwap?.();
  } catch (error) {
    problems.push(problemOf(undefined, error));
  }
  for (const declaration of declarations) {
    try {
      instances.push(...(await options.load([declaration])));
    } catch (error) {
      problems.push(problemOf(declaration.id, error));
    }
  }
  if (problems.length > 0) {
    for (const instance of instances) instance.dispose();
    throw new PluginSetError(problems);
  }
  const generation = new PluginGeneration({
    number,
    declarations,
    instances,
    routeNames: options.routeNames,
  });
  return companions ? { generation, companions } : { generation };
}

/** A located problem; `plugin` undefined for one of what the set runs with (the gRPC descriptors). */
function problemOf(plugin: string | undefined, error: unknown): PluginSetProblem {
  const message = describeError(error);
  const owner = plugin === undefined ? {} : { plugin };
  if (!(error instanceof ConfigError)) return { ...owner, message };
  const { file, line, column, field } = error.location;
  return { ...owner, file, line, column, field, message };
}
