/** Loads bundled plugins into real sandboxes for the bundled-*.test.ts files. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BUNDLED_PLUGINS } from "../../../src/plugins/bundled.ts";
import type { RecordSubject } from "../../../src/plugins/host-record.ts";
import type { TextSubject } from "../../../src/plugins/host-text.ts";
import { PluginSandbox } from "../../../src/plugins/sandbox.ts";
import type { HookName } from "../../../src/core/hooks.ts";

/** The repository root, found from this file whether it runs from test/ or dist/test/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("repository root not found");
    dir = up;
  }
  return dir;
}

/** A bundled plugin in a sandbox with the limits the tests use (64 MiB, 1 s load). */
export async function loadBundled(name: string): Promise<PluginSandbox> {
  const source = BUNDLED_PLUGINS[name];
  assert.ok(source, `bundled plugin ${name} exists`);
  return await PluginSandbox.load({
    source,
    fileName: `${name}/plugin.js`,
    memory: 64 * 1024 * 1024,
    loadMs: 1000,
    host: { emit: () => {}, log: () => {} },
  });
}

/** Calls setup and returns its result, failing the test when setup failed. */
export function setupOk(sandbox: PluginSandbox, config: unknown): unknown {
  const outcome = sandbox.setup(JSON.stringify(config), 1000);
  assert.ok(outcome.ok, `setup failed: ${outcome.ok ? "" : outcome.message}`);
  return outcome.value;
}

/** Calls a hook and returns its result, failing the test when the call failed. */
export function callOk(sandbox: PluginSandbox, hook: HookName, ...args: unknown[]): unknown {
  // onCapture works on the record the host holds (host.record), as the chain passes it.
  // onCapture and the body hooks work on what the host holds (host.record, host.text), as the chain passes it.
  const subject: RecordSubject | undefined = hook === "onCapture"
    ? { record: args[0] as Record<string, unknown> }
    : undefined;
  const text: TextSubject | undefined = hook === "onRequestBody" || hook === "onResponseBody"
    ? { text: args[0] as string }
    : undefined;
  const outcome = sandbox.call(hook, JSON.stringify(args), 1000, { records: subject && [subject], text });
  assert.ok(outcome.ok, `${hook} failed: ${outcome.ok ? "" : `${outcome.kind}: ${outcome.message}`}`);
  return outcome.value === undefined ? subject?.changed ?? text?.changed : outcome.value;
}

/** Mean microseconds per call of `fn` over `n` calls, after a warm-up. */
export function microsPerCall(fn: () => void, n = 1000): number {
  for (let i = 0; i < 50; i++) fn();
  const start = performance.now();
  for (let i = 0; i < n; i++) fn();
  return ((performance.now() - start) * 1000) / n;
}

/** A request as mutate hooks see it. */
export function requestView(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "0b7f7a4e-5a43-4d7e-9d0c-6f0d1c2b3a41",
    route: "api",
    method: "GET",
    url: "/api/users?page=2",
    path: "/api/users",
    query: "page=2",
    headers: { host: "example.test", "content-type": "application/json" },
    client_ip: "127.0.0.1:53122",
    ...overrides,
  };
}

/** Loosely typed JSON, for records the tests reshape freely. */
// deno-lint-ignore no-explicit-any
export type Json = Record<string, any>;

/** A typical http record: JSON request and response, a dozen headers. */
export function httpRecord(overrides: Json = {}): Json {
  return {
    type: "http",
    v: 1,
    id: "0b7f7a4e-5a43-4d7e-9d0c-6f0d1c2b3a41",
    route_name: "api",
    timestamp: "2026-11-21T03:40:00.000Z",
    duration_ms: 12.5,
    ttfb_request_ms: 0.4,
    ttfb_response_ms: 11.9,
    client_ip: "127.0.0.1:53122",
    upstream: "http://127.0.0.1:9000",
    request: {
      method: "POST",
      url: "/api/users?page=2",
      headers: {
        Host: ["example.test"],
        "User-Agent": ["curl/8.5.0"],
        Accept: ["application/json"],
        "Content-Type": ["application/json"],
        "Content-Length": ["38"],
        "X-Request-ID": ["req-42"],
      },
      body: '{"name":"Ada Lovelace","role":"admin"}',
      body_size: 38,
    },
    response: {
      status: 201,
      status_text: "Created",
      headers: {
        "Content-Type": ["application/json; charset=utf-8"],
        "Content-Length": ["27"],
        Date: ["Sat, 21 Nov 2026 03:40:00 GMT"],
        Server: ["nginx/1.27.0"],
        "Cache-Control": ["no-store"],
        Vary: ["Accept-Encoding"],
      },
      body: '{"id":17,"name":"Ada Lovelace"}',
      body_size: 31,
    },
    ...overrides,
  };
}

/** About 1 KiB of realistic JSON text without secrets. */
export function jsonBody1k(): string {
  const items: unknown[] = [];
  let text = "";
  for (let i = 0; text.length < 1000; i++) {
    items.push({
      id: 1000 + i,
      name: `Item number ${i}`,
      price: 12.5 + i,
      tags: ["alpha", "beta"],
      active: i % 2 === 0,
    });
    text = JSON.stringify({ page: 2, per_page: 20, total: 180, items });
  }
  return text;
}
