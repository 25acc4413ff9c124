/** tapline's own record totals, from the `{"msg":"stopped",...}` line it logs when it stops. */

/** The totals of the last `stopped` line in `output`, if tapline printed one. */
export function stoppedCounters(output: string): { recordsWritten?: number; recordsDropped?: number } {
  for (const line of output.split("\n").reverse()) {
    if (!line.includes(`"msg":"stopped"`)) continue;
    try {
      const o = JSON.parse(line) as { records_written?: unknown; records_dropped?: unknown };
      const out: { recordsWritten?: number; recordsDropped?: number } = {};
      if (typeof o.records_written === "number") out.recordsWritten = o.records_written;
      if (typeof o.records_dropped === "number") out.recordsDropped = o.records_dropped;
      return out;
    } catch {
      return {};
    }
  }
  return {};
}
