/** Small helpers shared by the conformance tests: temp dirs, --proxy values, unique markers. */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh temp directory; removed by `removeDir` unless TAPLINE_KEEP_TMP is set. */
export function tempDir(prefix = "tapline-conf-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string | undefined): void {
  if (!dir || process.env["TAPLINE_KEEP_TMP"]) return;
  rmSync(dir, { recursive: true, force: true });
}

/** The keys the Go-compatible `--proxy` flag accepts. */
export interface ProxySpec {
  name: string;
  upstream?: string;
  listen_http?: string;
  listen_https?: string;
  log_jsonl?: string;
  include_path?: string;
  exclude_path?: string;
  [key: string]: string | undefined;
}

/** Build a `--proxy` value: `name=api,listen_http=127.0.0.1:0,...` (listen_http defaults to 127.0.0.1:0). */
export function proxySpec(spec: ProxySpec): string {
  const entries = Object.entries({ listen_http: "127.0.0.1:0", ...spec }).filter(([, v]) => v !== undefined);
  return entries.map(([k, v]) => `${k}=${v}`).join(",");
}

/** A unique, URL-safe marker to find one request in the upstream's log and in records. */
export function marker(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Reads `read` every `everyMs` until `done` holds or `ms` have passed; returns the last value read. */
export async function eventually<V>(
  read: () => Promise<V> | V,
  done: (value: V) => boolean,
  ms = 8_000,
  everyMs = 100,
): Promise<V> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(everyMs);
    value = await read();
  }
  return value;
}

/** RFC 4122 UUID (any version), as records carry in `id`. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** RFC 3339 date-time. */
export const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Test teardown: stops tapline and expects a clean exit (code 0), then closes
 * the upstreams and removes the temp dir even when that assertion fails.
 */
export async function tearDown(
  tap: { stop(): Promise<{ code: number | null }>; stderrTail(): string } | undefined,
  upstreams: ReadonlyArray<{ close(): Promise<void> } | undefined>,
  dir: string | undefined,
): Promise<void> {
  try {
    if (tap) {
      const { code } = await tap.stop();
      if (code !== 0) throw new Error(`tapline exited with code ${code}\n${tap.stderrTail()}`);
    }
  } finally {
    for (const upstream of upstreams) await upstream?.close();
    removeDir(dir);
  }
}
