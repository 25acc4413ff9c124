/**
 * What a set of capture files holds, in one pass and bounded memory: time
 * span, counts by route, type and status class, the busiest paths, latency
 * percentiles, bytes, errors and truncated bodies (`tapline inspect`).
 */
import type { CaptureRecord } from "../shared/record.ts";

/** Distinct paths counted at most; later new paths count as `(other)` (paths are attacker-controlled). */
export const MAX_DISTINCT_PATHS = 10_000;
/** Paths listed in a summary. */
const TOP_PATHS = 10;

/** The summary `tapline inspect --json` prints. */
export interface InspectSummary {
  files: { path: string; format: string; records: number; skipped: number }[];
  records: number;
  skipped: number;
  /** Earliest and latest record timestamps; null without records. */
  first: string | null;
  last: string | null;
  byType: Record<string, number>;
  byRoute: Record<string, number>;
  /** `2xx` ... `5xx`, and `none` for exchanges without a response. */
  byStatusClass: Record<string, number>;
  topPaths: { path: string; count: number }[];
  /** Exchange durations in ms (http records); null without any. */
  latency: { p50: number; p90: number; p99: number; max: number } | null;
  bytes: { request: number; response: number; frames: number; events: number };
  errors: number;
  disconnected: number;
  truncatedBodies: number;
}

/** Accumulates records into an {@link InspectSummary}. */
export class InspectAccumulator {
  readonly #files: InspectSummary["files"] = [];
  #records = 0;
  #first: string | null = null;
  #last: string | null = null;
  readonly #byType: Record<string, number> = {};
  readonly #byRoute: Record<string, number> = {};
  readonly #byStatus: Record<string, number> = {};
  readonly #paths = new Map<string, number>();
  #durations = new Float64Array(1024);
  #durationCount = 0;
  readonly #bytes = { request: 0, response: 0, frames: 0, events: 0 };
  #errors = 0;
  #disconnected = 0;
  #truncated = 0;

  /** Starts counting the records of another file. */
  file(path: string, format: string): void {
    this.#files.push({ path, format, records: 0, skipped: 0 });
  }

  /** Counts a skipped line of the current file. */
  skip(): void {
    const file = this.#files.at(-1);
    if (file) file.skipped++;
  }

  add(record: CaptureRecord): void {
    this.#records++;
    const file = this.#files.at(-1);
    if (file) file.records++;
    const at = record.timestamp;
    if (typeof at === "string") {
      if (this.#first === null || at < this.#first) this.#first = at;
      if (this.#last === null || at > this.#last) this.#last = at;
    }
    count(this.#byType, String(record.type));
    count(this.#byRoute, String(record.route_name));
    switch (record.type) {
      case "http": {
        const status = record.response?.status;
        count(this.#byStatus, status === undefined ? "none" : `${Math.floor(status / 100)}xx`);
        this.#countPath(record.request.url);
        this.#addDuration(record.duration_ms);
        this.#bytes.request += record.request.body_size ?? 0;
        this.#bytes.response += record.response?.body_size ?? 0;
        if (record.error !== undefined) this.#errors++;
        if (record.disconnected) this.#disconnected++;
        if (record.request.body_truncated) this.#truncated++;
        if (record.response?.body_truncated) this.#truncated++;
        break;
      }
      case "websocket_frame":
      case "grpc_message":
        this.#bytes.frames += record.payload_size ?? 0;
        if (record.payload_truncated) this.#truncated++;
        break;
      case "sse_event":
        this.#bytes.events += record.data?.length ?? 0;
        if (record.data_truncated) this.#truncated++;
        break;
    }
  }

  #countPath(url: string | undefined): void {
    const path = typeof url === "string" ? url.split("?", 1)[0]! : "";
    const key = this.#paths.has(path) || this.#paths.size < MAX_DISTINCT_PATHS ? path : "(other)";
    this.#paths.set(key, (this.#paths.get(key) ?? 0) + 1);
  }

  #addDuration(ms: number): void {
    if (typeof ms !== "number" || !Number.isFinite(ms)) return;
    if (this.#durationCount === this.#durations.length) {
      const grown = new Float64Array(this.#durations.length * 2);
      grown.set(this.#durations);
      this.#durations = grown;
    }
    this.#durations[this.#durationCount++] = ms;
  }

  summary(): InspectSummary {
    const durations = this.#durations.subarray(0, this.#durationCount).sort();
    const at = (q: number) => durations[Math.min(durations.length - 1, Math.ceil(q * durations.length) - 1)]!;
    return {
      files: this.#files,
      records: this.#records,
      skipped: this.#files.reduce((n, f) => n + f.skipped, 0),
      first: this.#first,
      last: this.#last,
      byType: this.#byType,
      byRoute: this.#byRoute,
      byStatusClass: this.#byStatus,
      topPaths: [...this.#paths].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, TOP_PATHS)
        .map(([path, n]) => ({ path, count: n })),
      latency: durations.length === 0
        ? null
        : { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: durations[durations.length - 1]! },
      bytes: { ...this.#bytes },
      errors: this.#errors,
      disconnected: this.#disconnected,
      truncatedBodies: this.#truncated,
    };
  }
}

function count(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

const number = (n: number) => n.toLocaleString("en-US");
const ms = (n: number) => `${n.toLocaleString("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 })} ms`;

/** Bytes for people: `512 B`, `1.5 KiB`, `2.0 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Counts as `a 3 · b 2`, largest first. */
function counts(values: Record<string, number>): string {
  const entries = Object.entries(values).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return entries.length === 0 ? "none" : entries.map(([k, n]) => `${k} ${number(n)}`).join(" · ");
}

/**
 * The summary as text for people. Captured values (routes, paths) are
 * printed with control characters escaped: a path may hold anything.
 */
export function formatSummary(summary: InspectSummary): string {
  const lines: string[] = [];
  const formats = summary.files.map((f) => f.format);
  const jsonl = formats.filter((f) => f === "jsonl").length;
  lines.push(
    `Files: ${summary.files.length} (${jsonl} JSONL, ${formats.length - jsonl} SQLite), ${
      number(summary.records)
    } records, ${number(summary.skipped)} lines skipped`,
  );
  lines.push(`Time span: ${summary.first === null ? "none" : `${summary.first} → ${summary.last}`}`);
  lines.push(`Types: ${counts(summary.byType)}`);
  lines.push(`Routes: ${safe(counts(summary.byRoute))}`);
  lines.push(`Status: ${counts(summary.byStatusClass)}`);
  const l = summary.latency;
  lines.push(
    `Latency: ${l === null ? "none" : `p50 ${ms(l.p50)} · p90 ${ms(l.p90)} · p99 ${ms(l.p99)} · max ${ms(l.max)}`}`,
  );
  const b = summary.bytes;
  lines.push(
    `Bytes: requests ${formatBytes(b.request)} · responses ${formatBytes(b.response)} · frames ${
      formatBytes(b.frames)
    } · events ${formatBytes(b.events)}`,
  );
  lines.push(
    `Errors: ${number(summary.errors)} · disconnected ${number(summary.disconnected)} · truncated bodies ${
      number(summary.truncatedBodies)
    }`,
  );
  if (summary.topPaths.length > 0) {
    lines.push("Top paths:");
    const width = number(summary.topPaths[0]!.count).length;
    for (const { path, count } of summary.topPaths) lines.push(`  ${number(count).padStart(width)}  ${safe(path)}`);
  }
  return lines.join("\n") + "\n";
}

/** Escapes control characters (a captured path could move the cursor or clear a terminal). */
export function safe(text: string): string {
  // deno-lint-ignore no-control-regex -- escaping control characters is the point
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
