import { FrameCapture, type FrameStart } from "../capture/frame-capture.ts";
import type { FrameDirection, OpcodeName } from "../shared/record.ts";
import type { HookChain } from "./hooks.ts";
import type { RouteContext } from "./route-context.ts";

/** One side of a relayed WebSocket, as the runtime adapter drives it. */
export interface WebSocketEnd {
  /** Sends a message; text arrives as a string or as its UTF-8 bytes. */
  send(data: Uint8Array | string, binary: boolean): void;
  ping(data: Uint8Array): void;
  pong(data: Uint8Array): void;
  /**
   * Starts the closing handshake; without a code the close frame carries none.
   * `peerDropped` says the other side went away without a close frame, for
   * ends that cannot send a close without a code and drop the connection instead.
   */
  close(code?: number, reason?: string, peerDropped?: boolean): void;
}

/** Relay options that depend on the runtime's WebSocket server. */
export interface RelayOptions {
  /**
   * The client-side server answers pings itself (Bun.serve always does), so
   * the upstream's answer to a forwarded ping must not reach the client again.
   */
  clientPongsItself?: boolean;
}

/** The two connections a relay joins. */
export interface RelayEnds extends RelayOptions {
  /** The upgrade exchange's record id, or undefined when the exchange is not captured. */
  connectionId: string | undefined;
  /** The connection to the client (frames sent to it travel server_to_client). */
  client: WebSocketEnd;
  /** The connection to the upstream. */
  upstream: WebSocketEnd;
  /** The plugin set the connection keeps for its whole life (that of its upgrade exchange). */
  plugins?: HookChain | undefined;
}

/** Close codes that must never be sent in a close frame (RFC 6455 §7.4.1). */
const RESERVED_CLOSE_CODES = new Set([1005, 1006, 1015]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
/** Pings remembered per connection while their pong is awaited (Bun). */
const MAX_PENDING_PINGS = 16;

/** What a close frame carried. */
interface CloseFrame {
  code: number | undefined;
  reason: string;
}

/** A frame as the relay records it. */
interface TappedFrame {
  opcode: OpcodeName;
  payload: Uint8Array | string;
  /** Close frames only. */
  close?: CloseFrame;
}

const other = (direction: FrameDirection): FrameDirection =>
  direction === "client_to_server" ? "server_to_client" : "client_to_server";

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The policy of one relayed WebSocket: every message and control frame from
 * one side goes to the other exactly once, unaltered, and is captured as a
 * `websocket_frame` record; a close (or a drop) on one side closes the other.
 * Adapters call the `from*` methods as frames arrive and `ended` when a side's
 * connection is gone.
 */
export class WebSocketRelay {
  readonly route: RouteContext;
  /** The upgrade exchange's record id, or undefined when the exchange is not captured. */
  readonly connectionId: string | undefined;
  /** Path and query of the upgrade, as plugins see the connection. */
  url = "";
  readonly #ends: Record<FrameDirection, WebSocketEnd>;
  readonly #options: RelayOptions;
  readonly #pendingPings: Uint8Array[] = [];
  readonly #plugins: HookChain | undefined;
  /** Directions whose sender's close frame (or drop) has been seen. */
  readonly #closeSeen = new Set<FrameDirection>();
  /** Ends (keyed as in #ends) asked to close. */
  readonly #closeSent = new Set<FrameDirection>();
  #ended = false;

  constructor(route: RouteContext, ends: RelayEnds) {
    this.route = route;
    this.connectionId = ends.connectionId;
    // Keyed by the direction a frame travels when sent to that end.
    this.#ends = { client_to_server: ends.upstream, server_to_client: ends.client };
    this.#options = { clientPongsItself: ends.clientPongsItself };
    this.#plugins = ends.plugins;
    this.#plugins?.hold();
    const { metrics, activity } = route.deps;
    metrics.websocketsTotal++;
    metrics.websocketsActive++;
    activity.enter();
    route.websockets.add(this);
  }

  /** A message arrived; `from` is the direction it travels. */
  message(from: FrameDirection, data: Uint8Array | string, binary: boolean): void {
    const chain = this.#plugins;
    if (!binary && chain !== undefined && chain.uses("onWsMessage")) {
      const text = typeof data === "string" ? data : decoder.decode(data);
      const connection = { id: this.connectionId ?? "", route: this.route.name, url: this.url };
      const context = { routeName: this.route.name, connectionId: this.connectionId, generation: chain.generation };
      const result = chain.runWsMessage({ direction: from, data: text }, connection, context);
      // A dropped message is neither forwarded nor recorded.
      if (result === null) return;
      if (result !== undefined) data = result;
    }
    this.#tap(from, { opcode: binary ? "binary" : "text", payload: data });
    this.#ends[from].send(data, binary);
  }

  ping(from: FrameDirection, data: Uint8Array): void {
    this.#tap(from, { opcode: "ping", payload: data });
    if (from === "client_to_server" && this.#options.clientPongsItself) {
      if (this.#pendingPings.length === MAX_PENDING_PINGS) this.#pendingPings.shift();
      this.#pendingPings.push(data);
    }
    this.#ends[from].ping(data);
  }

  pong(from: FrameDirection, data: Uint8Array): void {
    this.#tap(from, { opcode: "pong", payload: data });
    if (from === "server_to_client" && this.#pendingPings.length > 0) {
      const index = this.#pendingPings.findIndex((ping) => sameBytes(ping, data));
      if (index !== -1) {
        // The client's server already answered this ping with the same payload.
        this.#pendingPings.splice(index, 1);
        return;
      }
    }
    this.#ends[from].pong(data);
  }

  /**
   * A side sent a close frame (code undefined when it carried none): the
   * other side is closed with the same code and reason, or without a code
   * when there is none to pass on.
   */
  close(from: FrameDirection, code: number | undefined, reason: string): void {
    const passable = code !== undefined && !RESERVED_CLOSE_CODES.has(code) ? code : undefined;
    this.#closed(from, { code: passable, reason });
  }

  /** A side's connection dropped without a close frame: the other side is closed without a code. */
  dropped(from: FrameDirection): void {
    this.#closed(from, undefined);
  }

  /** `frame` is what the close frame carried, undefined when the connection dropped without one. */
  #closed(from: FrameDirection, frame: CloseFrame | undefined): void {
    if (this.#closeSeen.has(from)) return;
    this.#closeSeen.add(from);
    if (frame) this.#tap(from, { opcode: "close", payload: EMPTY, close: frame });
    // A close answering the other side's close ends the handshake; nothing to pass on.
    if (this.#closeSeen.has(other(from)) || this.#closeSent.has(from)) return;
    this.#closeSent.add(from);
    if (frame?.code === undefined) this.#ends[from].close(undefined, undefined, frame === undefined);
    else this.#ends[from].close(frame.code, frame.reason);
  }

  /** Both connections are gone: releases the relay's accounting. Later calls do nothing. */
  ended(): void {
    if (this.#ended) return;
    this.#ended = true;
    const { metrics, activity } = this.route.deps;
    metrics.websocketsActive--;
    this.route.websockets.delete(this);
    this.#plugins?.release();
    activity.leave();
  }

  /** Closes both sides with 1001 (going away), for shutdown. */
  goingAway(): void {
    for (const key of ["client_to_server", "server_to_client"] as const) {
      if (this.#closeSent.has(key) || this.#closeSeen.has(other(key))) continue;
      this.#closeSent.add(key);
      this.#ends[key].close(1001, "Proxy shutting down");
    }
  }

  /** Counts a frame and, when the connection is captured, records it. */
  #tap(direction: FrameDirection, frame: TappedFrame): void {
    const { opcode, payload, close } = frame;
    const { metrics, sinks, pipeline, maxBodySize } = this.route.deps;
    metrics.websocketFrames[direction]++;
    const connectionId = this.connectionId;
    if (connectionId === undefined) return;
    const start: FrameStart = { routeName: this.route.name, connectionId, direction, opcode };
    if (close) {
      start.closeCode = close.code;
      start.closeReason = close.reason;
    }
    // Bun hands text messages over as strings; only a captured one is encoded back to bytes.
    const bytes = opcode === "close" ? EMPTY : typeof payload === "string" ? encoder.encode(payload) : payload;
    const capture = new FrameCapture(start, bytes, this.route.deps);
    if (capture.budgetExhausted(maxBodySize)) metrics.captureBudgetTruncations++;
    pipeline.submit({ capture, sinks, metrics, plugins: this.#plugins });
  }
}
