/**
 * Fixtures, a pack's executable contract: for one plugin of the pack, an
 * input (a request head, a body, an SSE event, a WebSocket message, a
 * record) with a config, and the output expected from the hook, run in the
 * real sandbox through the same chain the proxy uses. A fixture file is YAML
 * or JSON holding one fixture or `fixtures: [...]`:
 *
 * ```yaml
 * name: redacts a bearer token
 * plugin: redact            # may be left out when the pack has one plugin
 * config: { headers: [authorization] }
 * hook: onCapture
 * input:  { record: { request: { url: /, headers: { Authorization: ["Bearer abc"] } } } }
 * expect: { record: { request: { url: /, headers: { Authorization: ["[REDACTED]"] } } } }
 * ```
 *
 * The output of each hook is one of (see `HOOK_INPUTS`): `{request}` /
 * `{respond}` (+ `capture: false`), `{response}`, `{body}`, `{event}`,
 * `{data}`, `{record}`, `{dropped: true}` or `{refused: true}`; for an input
 * given as a sequence (`records`, `events`, `messages`: run in order through
 * the same sandbox, for plugins that keep state across a stream) the list of
 * outputs under the same key, `null` for one dropped; plus
 * `emitted` (the `data` of each `emit`) and `error` (a hook failure) when
 * there are any. Records are completed with fixed identity fields (`id`,
 * `timestamp`, ...) on both sides, so a fixture writes only what matters.
 */
import type { BodyHookName, GrpcCallView, HookContext, HookName, RequestView } from "../../core/hooks.ts";
import { fromBase64, toBase64 } from "../../shared/base64.ts";
import type { CaptureRecord } from "../../shared/record.ts";
import type { RawHeaders } from "../../shared/raw-headers.ts";
import type { ConfigError } from "../../shared/errors.ts";
import { parseLocatedYaml } from "../../shared/located-yaml.ts";
import type { Logger } from "../../shared/logger.ts";
import { PluginChain } from "../chain.ts";
import type { PluginInstance } from "../instance.ts";
import { loadPlugin } from "../loader.ts";
import { DEFAULT_PLUGIN_LIMITS, type PackSource } from "../types.ts";
import { jsonDiff } from "./json-diff.ts";
import type { PackManifest, PackPlugin } from "./pack-manifest.ts";
import type { PackContents } from "./pack-files.ts";

/** One fixture as written. */
export interface Fixture {
  name: string;
  plugin: string;
  config: Record<string, unknown>;
  hook: HookName;
  input: Record<string, unknown>;
  expect: Record<string, unknown>;
  /** `fixtures/redact.yaml#2`: where it was read from. */
  source: string;
}

/** What running a fixture gave. */
export interface FixtureResult {
  fixture: Fixture;
  passed: boolean;
  /** What the hook produced, normalized as described above. */
  output?: Record<string, unknown>;
  /** A line diff of expected against actual, when it failed on the output. */
  diff?: string;
  /** When it could not run (the plugin did not load, the input was wrong). */
  error?: string;
  ms: number;
}

/**
 * Input keys each hook takes: the first is the one it needs; a key in
 * SEQUENCES may be given instead as a list, run in order through the same
 * sandbox (for plugins that keep state across a stream).
 */
const HOOK_INPUTS: Record<HookName, readonly string[]> = {
  onRequest: ["request"],
  onRequestBody: ["body", "request"],
  onResponse: ["response", "request"],
  onResponseBody: ["body", "response", "request"],
  onSseEvent: ["event", "request"],
  onWsMessage: ["message", "connection"],
  onGrpcMessage: ["message", "call"],
  onCapture: ["record"],
  onCaptureBatch: ["record"],
};

/** `records: [...]` for `record`, and so on: an input given as a sequence, and its output key. */
const SEQUENCES: Record<string, string> = { record: "records", event: "events", message: "messages" };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Reads the fixtures of a pack from its contents: every `.yaml`, `.yml` and
 * `.json` file under the manifest's `fixtures` paths.
 *
 * @throws ConfigError naming the fixture file, line and field.
 */
export function readFixtures(pack: PackManifest, contents: PackContents): Fixture[] {
  const files = [...contents.keys()].filter((path) =>
    /\.(ya?ml|json)$/.test(path) &&
    pack.fixtures.some((root) => path === root || path.startsWith(root.replace(/\/+$/, "") + "/"))
  ).sort();
  const fixtures: Fixture[] = [];
  for (const file of files) {
    const yaml = parseLocatedYaml(new TextDecoder().decode(contents.get(file)), file);
    const data = yaml.data;
    const list = isObject(data) && Array.isArray(data.fixtures) ? data.fixtures : [data];
    const base = isObject(data) && Array.isArray(data.fixtures) ? ["fixtures"] : [];
    list.forEach((raw, i) => {
      const at = list.length > 1 || base.length > 0 ? [...base, i] : [];
      fixtures.push(checkFixture(raw, pack, `${file}${at.length > 0 ? `#${i + 1}` : ""}`, (path, message) => {
        return yaml.error([...at, ...path], message, "fixture_invalid");
      }));
    });
  }
  return fixtures;
}

function checkFixture(
  raw: unknown,
  pack: PackManifest,
  source: string,
  fail: (path: (string | number)[], message: string) => ConfigError,
): Fixture {
  if (!isObject(raw)) throw fail([], "a fixture is a mapping with name, hook, input and expect");
  for (const key of Object.keys(raw)) {
    if (!["name", "plugin", "config", "hook", "input", "expect"].includes(key)) {
      throw fail([key], `unknown key "${key}" (a fixture has name, plugin, config, hook, input, expect)`);
    }
  }
  if (typeof raw.name !== "string" || raw.name === "") throw fail(["name"], "name the fixture (a string)");
  const plugin = raw.plugin ?? (pack.plugins.length === 1 ? pack.plugins[0]!.name : undefined);
  if (typeof plugin !== "string") {
    throw fail(["plugin"], `say which plugin (one of ${pack.plugins.map((p) => p.name).join(", ")})`);
  }
  if (!pack.plugins.some((p) => p.name === plugin)) {
    throw fail(["plugin"], `the pack has no plugin "${plugin}" (it has ${pack.plugins.map((p) => p.name).join(", ")})`);
  }
  if (raw.config !== undefined && !isObject(raw.config)) throw fail(["config"], "config must be a mapping");
  const hook = raw.hook;
  if (typeof hook !== "string" || !(hook in HOOK_INPUTS)) {
    throw fail(["hook"], `hook must be one of ${Object.keys(HOOK_INPUTS).join(", ")}`);
  }
  if (!isObject(raw.input)) throw fail(["input"], `input must be a mapping with ${HOOK_INPUTS[hook as HookName][0]}`);
  const needed = HOOK_INPUTS[hook as HookName][0]!;
  const many = SEQUENCES[needed];
  if (raw.input[needed] === undefined && (many === undefined || raw.input[many] === undefined)) {
    throw fail(["input"], `${hook} needs input.${needed}${many ? ` (or input.${many}, a list)` : ""}`);
  }
  if (many !== undefined && raw.input[many] !== undefined) {
    if (raw.input[needed] !== undefined) throw fail(["input", many], `give ${needed} or ${many}, not both`);
    if (!Array.isArray(raw.input[many]) || raw.input[many].length === 0) {
      throw fail(["input", many], `${many} must be a non-empty list`);
    }
  }
  for (const key of Object.keys(raw.input)) {
    if (!HOOK_INPUTS[hook as HookName].includes(key) && key !== many) {
      throw fail(["input", key], `${hook} takes ${HOOK_INPUTS[hook as HookName].join(", ")}, not ${key}`);
    }
  }
  if (!isObject(raw.expect)) {
    throw fail(["expect"], "expect must be a mapping, such as {record: ...}, {dropped: true} or {body: ...}");
  }
  return {
    name: raw.name,
    plugin,
    config: (raw.config ?? {}) as Record<string, unknown>,
    hook: hook as HookName,
    input: raw.input,
    expect: raw.expect,
    source,
  };
}

/** What running fixtures needs from the host. */
export interface FixtureEnvironment {
  logger: Logger;
  /** Milliseconds a fixture's plugin may spend loading; default the plugin's own setup limit. */
  setupMs?: number;
}

/**
 * Runs one fixture in a fresh sandbox of its plugin. Never throws: a plugin
 * that does not load or an input that does not fit is a failed result.
 */
export async function runFixture(
  pack: PackManifest,
  contents: PackContents,
  fixture: Fixture,
  env: FixtureEnvironment,
): Promise<FixtureResult> {
  const started = performance.now();
  const done = (result: Omit<FixtureResult, "fixture" | "ms">): FixtureResult => ({
    fixture,
    ms: performance.now() - started,
    ...result,
  });
  const plugin = pack.plugins.find((p) => p.name === fixture.plugin)!;
  const emitted: unknown[] = [];
  const failures: string[] = [];
  const logger: Logger = {
    ...env.logger,
    debug: () => {},
    info: () => {},
    warn: (message, fields) => {
      if (message === "plugin hook failed") failures.push(`${fields?.["kind"]}: ${fields?.["message"]}`);
    },
  };
  let instance: PluginInstance;
  try {
    instance = await loadPlugin(
      {
        id: fixture.plugin.replace(/[^a-zA-Z0-9_-]/g, "_"),
        use: `${pack.name}/${plugin.name}`,
        pack: packSource(pack, contents, plugin),
        config: fixture.config,
        limits: { ...DEFAULT_PLUGIN_LIMITS, ...plugin.limits },
      },
      {
        readTextFile: () => Promise.reject(new Error("fixtures read no files")),
        logger,
        onEmit: (_plugin, data) => emitted.push(data),
      },
    );
  } catch (error) {
    return done({ passed: false, error: `the plugin did not load: ${(error as Error).message}` });
  }
  try {
    const chain = new PluginChain("fixture", [instance]);
    let output: Record<string, unknown>;
    try {
      output = await runHook(chain, fixture);
    } catch (error) {
      return done({ passed: false, error: `the input does not fit ${fixture.hook}: ${(error as Error).message}` });
    }
    if (emitted.length > 0) output.emitted = emitted;
    if (failures.length > 0) output.error = failures.join("; ");
    const expected = completeExpect(fixture);
    const diff = jsonDiff(expected, output);
    return diff === undefined ? done({ passed: true, output }) : done({ passed: false, output, diff });
  } finally {
    instance.dispose();
  }
}

/** A loader source for a plugin of a pack held in memory. */
export function packSource(pack: PackManifest, contents: PackContents, plugin: PackPlugin): PackSource {
  const bytes = contents.get(plugin.entry);
  return {
    packId: `${pack.name}@${pack.version}`,
    version: pack.version,
    plugin,
    file: `${pack.name}@${pack.version}/${plugin.entry}`,
    source: bytes === undefined ? undefined : new TextDecoder().decode(bytes),
  };
}

/** The id of a fixture's exchange (and of its records, unless they say otherwise). */
const FIXTURE_ID = "00000000-0000-4000-8000-000000000001";
const CONTEXT: HookContext = { routeName: "fixture", connectionId: FIXTURE_ID, generation: 1 };

/** The normalized output of the fixture's hook, run through a one-plugin chain. */
async function runHook(chain: PluginChain, fixture: Fixture): Promise<Record<string, unknown>> {
  const input = fixture.input;
  const request = requestView(input.request);
  switch (fixture.hook) {
    case "onRequest": {
      const decision = chain.runRequest(request, toRaw(request.headers), CONTEXT);
      const out: Record<string, unknown> = decision.respond
        ? { respond: decision.respond }
        : { request: { method: decision.method, url: decision.url, headers: toPlugin(decision.headers) } };
      if (!decision.capture) out.capture = false;
      return out;
    }
    case "onResponse": {
      const response = responseInput(input.response);
      const head = chain.runResponse(
        { status: response.status, statusText: response.status_text, headers: toRaw(response.headers) },
        request,
        CONTEXT,
      );
      if ("refusedBy" in head) return { refused: true };
      return { response: { status: head.status, status_text: head.statusText, headers: toPlugin(head.headers) } };
    }
    case "onRequestBody":
    case "onResponseBody": {
      if (typeof input.body !== "string") throw new Error("input.body must be a string");
      const response = fixture.hook === "onResponseBody" ? responseInput(input.response) : undefined;
      const headers = response?.headers ?? request.headers;
      const result = chain.runBody(fixture.hook as BodyHookName, {
        text: input.body,
        size: new TextEncoder().encode(input.body).byteLength,
        contentType: headers["content-type"],
        request,
        ...(response ? { response } : {}),
      }, CONTEXT);
      if ("refusedBy" in result) return { refused: true };
      return { body: result.text ?? input.body };
    }
    case "onSseEvent": {
      const one = (raw: unknown) => {
        if (!isObject(raw)) throw new Error("an event must be {event?, data, id?, retry?}");
        const event = { event: "message", ...raw } as { event: string; data: string };
        const out = chain.runSseEvent(event, request, CONTEXT);
        return out === null ? null : out ?? event;
      };
      if (Array.isArray(input.events)) return { events: input.events.map(one) };
      const event = one(input.event);
      return event === null ? { dropped: true } : { event };
    }
    case "onWsMessage": {
      const connection = { id: FIXTURE_ID, route: "fixture", url: "/", ...(input.connection as object) };
      const one = (message: unknown) => {
        if (!isObject(message) || typeof message.data !== "string") {
          throw new Error("a message must be {direction, data}");
        }
        const out = chain.runWsMessage(
          { direction: "client_to_server", ...message } as { direction: "client_to_server"; data: string },
          connection as { id: string; route: string; url: string },
          CONTEXT,
        );
        return out === null ? null : out ?? message.data;
      };
      if (Array.isArray(input.messages)) return { messages: input.messages.map(one) };
      const data = one(input.message);
      return data === null ? { dropped: true } : { data };
    }
    case "onGrpcMessage": {
      const call = { id: FIXTURE_ID, route: "fixture", url: "/", service: "", method: "", ...(input.call as object) };
      const one = (message: unknown) => {
        if (!isObject(message) || typeof message.payload !== "string") {
          throw new Error("a message must be {direction, payload} with the payload in base64");
        }
        const out = chain.runGrpcMessage(
          {
            direction: message.direction === "server_to_client" ? "server_to_client" : "client_to_server",
            compressed: message.compressed === true,
            payload: fromBase64(message.payload),
          },
          call as GrpcCallView,
          undefined,
          CONTEXT,
        );
        return out === null ? null : out === undefined ? message.payload : toBase64(out.payload);
      };
      if (Array.isArray(input.messages)) return { messages: input.messages.map(one) };
      const payload = one(input.message);
      return payload === null ? { dropped: true } : { payload };
    }
    case "onCapture":
    case "onCaptureBatch": {
      // A sequence goes through in one call, as the capture writer hands a slice of records.
      const given = Array.isArray(input.records) ? input.records : [input.record];
      const outs = await chain.runCaptures(given.map((r) => completeRecord(r) as unknown as CaptureRecord));
      if (Array.isArray(input.records)) return { records: outs.map((out) => out.record) };
      return outs[0]!.record === null ? { dropped: true } : { record: outs[0]!.record };
    }
  }
}

/** The expected output with records completed like the input's. */
function completeExpect(fixture: Fixture): Record<string, unknown> {
  const expect = { ...fixture.expect };
  if (isObject(expect.record)) expect.record = completeRecord(expect.record);
  if (Array.isArray(expect.records)) {
    expect.records = expect.records.map((record) => isObject(record) ? completeRecord(record) : record);
  }
  if (Array.isArray(expect.events)) {
    expect.events = expect.events.map((event) => isObject(event) ? { event: "message", ...event } : event);
  }
  return expect;
}

/** A fixture's request view, with defaults for what it leaves out. */
function requestView(raw: unknown): RequestView {
  const given = isObject(raw) ? raw : {};
  const url = typeof given.url === "string" ? given.url : "/";
  const query = url.includes("?") ? url.slice(url.indexOf("?") + 1) : "";
  return {
    id: FIXTURE_ID,
    route: "fixture",
    method: "GET",
    path: url.split("?")[0]!,
    query,
    client_ip: "127.0.0.1",
    ...given,
    url,
    headers: lowerKeys(given.headers),
  } as RequestView;
}

function responseInput(raw: unknown): { status: number; status_text: string; headers: Record<string, string> } {
  const given = isObject(raw) ? raw : {};
  return {
    status: typeof given.status === "number" ? given.status : 200,
    status_text: typeof given.status_text === "string" ? given.status_text : "OK",
    headers: lowerKeys(given.headers),
  };
}

function lowerKeys(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(raw)) { for (const [name, value] of Object.entries(raw)) out[name.toLowerCase()] = String(value); }
  return out;
}

function toRaw(headers: Record<string, string>): RawHeaders {
  return Object.entries(headers).flat();
}

/** Raw headers as plugins see them: lower-case names, repeated values joined with ", ". */
function toPlugin(raw: RawHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    out[name] = out[name] === undefined ? raw[i + 1]! : `${out[name]}, ${raw[i + 1]}`;
  }
  return out;
}

/** Identity fields a fixture record need not write, by record type. */
const RECORD_DEFAULTS: Record<string, Record<string, unknown>> = {
  http: {
    duration_ms: 1,
    ttfb_request_ms: 0,
    ttfb_response_ms: 1,
    client_ip: "127.0.0.1:40000",
    upstream: "http://127.0.0.1:3000",
  },
  sse_event: { connection_id: FIXTURE_ID, t_delta_ms: 0, event: "message" },
  websocket_frame: { connection_id: FIXTURE_ID, direction: "server_to_client", opcode: 1, opcode_name: "text" },
};

/** A fixture record with the fields it leaves out filled in the same way every time. */
export function completeRecord(raw: unknown): Record<string, unknown> {
  const given = isObject(raw) ? raw : {};
  const type = typeof given.type === "string" ? given.type : "http";
  const record: Record<string, unknown> = {
    type,
    v: 1,
    id: type === "http" ? FIXTURE_ID : "00000000-0000-4000-8000-000000000002",
    route_name: "fixture",
    timestamp: "2026-01-01T00:00:00.000Z",
    ...RECORD_DEFAULTS[type],
    ...given,
  };
  if (type === "http") {
    const request = isObject(given.request) ? given.request : {};
    record.request = { method: "GET", url: "/", headers: {}, body_size: bodySize(request.body), ...request };
    if (given.response !== null) {
      const response = isObject(given.response) ? given.response : {};
      record.response = {
        status: 200,
        status_text: "OK",
        headers: {},
        body_size: bodySize(response.body),
        ...response,
      };
    }
  }
  if (type === "websocket_frame" && given.payload_size === undefined) {
    record.payload_size = bodySize(given.payload);
  }
  return record;
}

function bodySize(body: unknown): number {
  return typeof body === "string" ? new TextEncoder().encode(body).byteLength : 0;
}
