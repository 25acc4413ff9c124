/**
 * The streaming benchmark's scenarios: what load each applies and how its
 * rate is labelled.
 */

export const STREAM_SCENARIO_NAMES = ["ws-small", "ws-pipe", "ws-1m", "sse"] as const;
export type StreamScenarioName = (typeof STREAM_SCENARIO_NAMES)[number];

/** The load of one scenario, as the load generator applies it. */
export interface StreamLoad {
  kind: "ws" | "sse";
  /** WebSocket connections, or concurrent SSE streams. */
  connections: number;
  /** WebSocket messages in flight per connection (1 = closed loop). */
  window: number;
  /** WebSocket message size in bytes. */
  size: number;
  binary: boolean;
}

/** Settings the scenarios are built from (harness options). */
export interface LoadSettings {
  connections: number;
  window: number;
  bigConnections: number;
  streams: number;
}

/** The load `name` applies with `s`. */
export function scenarioLoad(name: StreamScenarioName, s: LoadSettings): StreamLoad {
  switch (name) {
    case "ws-small":
      return { kind: "ws", connections: s.connections, window: 1, size: 100, binary: false };
    case "ws-pipe":
      return { kind: "ws", connections: s.connections, window: s.window, size: 100, binary: false };
    case "ws-1m":
      return { kind: "ws", connections: s.bigConnections, window: 1, size: 1024 * 1024, binary: true };
    case "sse":
      return { kind: "sse", connections: s.streams, window: 1, size: 0, binary: false };
  }
}

/** Human label of a scenario with its load, e.g. `WS 100 B text, c16 × 32 in flight`. */
export function scenarioLabel(name: StreamScenarioName, load: StreamLoad): string {
  switch (name) {
    case "ws-small":
      return `WS 100 B text, c${load.connections}, closed loop`;
    case "ws-pipe":
      return `WS 100 B text, c${load.connections} × ${load.window} in flight`;
    case "ws-1m":
      return `WS 1 MiB binary, c${load.connections}, closed loop`;
    case "sse":
      return `SSE ~100 B events, ${load.connections} streams`;
  }
}
