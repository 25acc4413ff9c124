/**
 * What the capture writer asks of a route's plugins: the `onCapture` hook
 * (or `onCaptureBatch`), which sees each record off the forwarding path and
 * may change or drop it.
 * The core's `HookChain` extends this, and `src/plugins/` implements both.
 */
import type { CaptureRecord } from "../shared/record.ts";

/** The onCapture side of a route's plugins. */
export interface RecordHook {
  /** The plugin set these plugins belong to; records they handle carry it as `plugin_generation`. */
  readonly generation: number;
  /** Whether some plugin uses the hook; the writer skips it otherwise. */
  uses(hook: "onCapture"): boolean;
  /**
   * For each record, the record to write, or null when a plugin dropped it
   * (or failed closed), in the order given. May wait for a sandbox being
   * rebuilt: records are off the forwarding path.
   */
  runCaptures(records: readonly CaptureRecord[]): Promise<{ record: CaptureRecord | null; droppedBy?: string }[]>;
}
