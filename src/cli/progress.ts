/** Progress of the file commands (reindex, inspect, export) on stderr, drawn only when it is a terminal. */
import type { Runtime } from "../runtime/types.ts";
import { progressBar } from "./reindex.ts";

/** A progress bar on stderr when it is a terminal, and warnings that do not break it. */
export function progressDrawer(runtime: Runtime, files: number) {
  const terminal = runtime.stderrIsTerminal();
  let drawn = false;
  let lastDraw = 0;
  return {
    draw(progress: { file: string; fileIndex: number; fraction: number; records: number }) {
      if (!terminal) return;
      const now = Date.now();
      if (now - lastDraw < 100 && progress.fraction < 1) return;
      lastDraw = now;
      runtime.writeStderr(`\r${progressBar({ ...progress, files })}\x1b[K`);
      drawn = true;
    },
    warn(line: string) {
      if (drawn) runtime.writeStderr("\n");
      drawn = false;
      runtime.writeStderr(line + "\n");
    },
    done() {
      if (drawn) runtime.writeStderr("\n");
      drawn = false;
    },
  };
}
