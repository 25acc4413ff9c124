/**
 * One plugin set, loaded together: a generation. Exchanges, event streams
 * and WebSocket relays hold the generation they began with until they end,
 * so a reload never changes what happens to traffic already in flight; a
 * replaced generation is freed once the last of them lets go.
 */
import { PluginChain } from "./chain.ts";
import type { PluginInstance } from "./instance.ts";
import type { PluginDeclaration } from "./types.ts";

/** What a generation is made of. */
export interface GenerationParts {
  /** 1 for the set loaded at start, then one more per reload. */
  number: number;
  declarations: readonly PluginDeclaration[];
  instances: readonly PluginInstance[];
  /** Names of the routes, to build one chain for each route some plugin applies to. */
  routeNames: readonly string[];
}

/** A loaded plugin set with a chain per route and a count of who is using it. */
export class PluginGeneration {
  readonly #number: number;
  readonly declarations: readonly PluginDeclaration[];
  readonly instances: readonly PluginInstance[];
  /** The chain of each route with at least one plugin. */
  readonly chains: ReadonlyMap<string, PluginChain>;
  #users = 0;
  #retired: (() => void) | undefined;
  #disposed = false;
  /** The newer set this one's remaining users were handed to (see `moveTo`). */
  #successor: PluginGeneration | undefined;

  constructor(parts: GenerationParts) {
    this.#number = parts.number;
    this.declarations = parts.declarations;
    this.instances = parts.instances;
    const chains = new Map<string, PluginChain>();
    for (const name of parts.routeNames) {
      const own = parts.instances.filter((plugin) => plugin.appliesTo(name));
      if (own.length > 0) chains.set(name, new PluginChain(name, own, this));
    }
    this.chains = chains;
  }

  /** The set's generation; once its users were moved, that of the set now serving them. */
  get number(): number {
    return this.#successor?.number ?? this.#number;
  }

  /** Exchanges, streams and relays using this set now. */
  get users(): number {
    return this.#users;
  }

  hold(): void {
    if (this.#successor) return this.#successor.hold();
    this.#users++;
  }

  release(): void {
    if (this.#successor) return this.#successor.release();
    if (--this.#users === 0 && this.#retired) this.#retired();
  }

  /**
   * Hands the users still holding this set to `newer` (their later calls go
   * to its chains, and it counts them), so this set can be freed: for
   * streams that outlive the drain timeout.
   */
  moveTo(newer: PluginGeneration): void {
    for (let i = 0; i < this.#users; i++) newer.hold();
    this.#users = 0;
    this.#successor = newer;
    for (const [route, chain] of this.chains) chain.moveTo(newer.chains.get(route));
  }

  /** Resolves once nothing uses the set any more (at once when nothing does). */
  retire(): Promise<void> {
    if (this.#users === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#retired = resolve));
  }

  /** Frees every sandbox of the set; later calls do nothing. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const instance of this.instances) instance.dispose();
  }
}
