import type { Capture } from "./capture.ts";
import { type CustomRecord, RECORD_VERSION } from "../shared/record.ts";
import { isoTimestamp } from "./timestamp.ts";

/** Where a custom record belongs. */
export interface CustomStart {
  routeName: string;
  /** The plugin instance id. */
  plugin: string;
  /** The exchange or connection the plugin was handling, when known. */
  connectionId?: string;
  /** The plugin set of the emitting plugin. */
  generation?: number;
  data: unknown;
}

/**
 * A record a plugin emitted (custom capture scripts). Its data is already
 * plain JSON data from the sandbox, and small (emit is capped), so it is not
 * counted against the capture memory budget.
 */
export class CustomCapture implements Capture {
  readonly id = crypto.randomUUID();
  readonly at = Date.now();
  readonly start: CustomStart;
  readonly heldBytes = 0;

  constructor(start: CustomStart) {
    this.start = start;
  }

  toRecord(): CustomRecord {
    const start = this.start;
    const record: CustomRecord = {
      type: "custom",
      v: RECORD_VERSION,
      id: this.id,
      route_name: start.routeName,
      timestamp: isoTimestamp(this.at),
      plugin: start.plugin,
      data: start.data,
    };
    if (start.connectionId !== undefined) record.connection_id = start.connectionId;
    if (start.generation !== undefined) record.plugin_generation = start.generation;
    return record;
  }

  release(): void {}
}
