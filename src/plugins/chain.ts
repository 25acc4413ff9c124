/**
 * The plugins of one proxy in chain order, and the dispatch of each hook
 * through them: a change made by one plugin is what the next one sees. The
 * core holds a chain only when the proxy has plugins, and asks
 * `hooks.<name>.length` before building any payload, so a hook nobody
 * exports costs nothing.
 */
import type { GrpcCodec } from "../capture/grpc-decoder.ts";
import type { RecordHook } from "../capture/record-hook.ts";
import type {
  BodyHookCall,
  BodyHookName,
  GrpcCallView,
  GrpcMessageBytes,
  GrpcMessageView,
  HookChain,
  HookContext,
  HookName,
  Refusal,
  RequestDecision,
  RequestView,
  ResponseHead,
  SseEventView,
  WsConnectionView,
  WsMessageView,
} from "../core/hooks.ts";
import { responseView } from "../core/hook-views.ts";
import { pluginFailure } from "../core/reply.ts";
import { fromBase64, toBase64 } from "../shared/base64.ts";
import { patchHeaders, type RawHeaders } from "../shared/raw-headers.ts";
import type { CaptureRecord } from "../shared/record.ts";
import type { PluginInstance } from "./instance.ts";
import { isValidRecord } from "./record-check.ts";
import { bodyArgs, recordArgs, recordsArgs, viewArg } from "./hook-args.ts";
import { mergeRecord } from "./reads.ts";
import type { RecordSubject } from "./host-record.ts";
import type { TextSubject } from "./host-text.ts";
import type { RequestPatch, ResponsePatch } from "./types.ts";

type Hooked = Record<HookName, PluginInstance[]>;

/** What onCapture made of a record: the record to write, or null and the plugin that dropped it. */
export interface CaptureOutcome {
  record: CaptureRecord | null;
  droppedBy?: string;
}

/** Records per onCaptureBatch call: bounds one crossing's work and memory. */
export const CAPTURE_BATCH = 64;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A gRPC message as the hooks see it: `payload_json` only for an uncompressed message of a described method. */
function grpcMessageView(
  direction: GrpcMessageView["direction"],
  { compressed, payload }: GrpcMessageBytes,
  codec: GrpcCodec | undefined,
): GrpcMessageView {
  const view: GrpcMessageView = { direction, compressed, payload_size: payload.byteLength, payload: toBase64(payload) };
  const json = compressed ? undefined : codec?.decode(payload);
  if (json !== undefined) view.payload_json = json;
  return view;
}

/**
 * The message an onGrpcMessage result asks for, in place of `current`.
 * `{payload_json}` is encoded with the method's descriptors and is
 * uncompressed; `{payload}` keeps the compressed flag unless `compressed` says.
 *
 * @throws naming what is wrong with the result.
 */
function grpcPayloadOf(value: unknown, current: GrpcMessageBytes, codec: GrpcCodec | undefined): GrpcMessageBytes {
  if (!isObject(value) || (value.payload_json === undefined && typeof value.payload !== "string")) {
    throw new Error("onGrpcMessage must return {payload_json}, {payload} (base64), null or undefined");
  }
  if (value.payload_json !== undefined) {
    if (codec === undefined || current.compressed) {
      throw new Error(
        "onGrpcMessage returned payload_json for a message no --grpc-descriptors describe (or a compressed one); " +
          "return {payload} in base64 instead",
      );
    }
    try {
      return { compressed: false, payload: codec.encode(value.payload_json, current.payload) };
    } catch (error) {
      throw new Error(
        `onGrpcMessage returned payload_json that does not fit the message type: ${(error as Error).message}`,
      );
    }
  }
  const text = value.payload as string;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new Error("onGrpcMessage returned a payload that is not standard base64");
  }
  const compressed = typeof value.compressed === "boolean" ? value.compressed : current.compressed;
  return { compressed, payload: fromBase64(text) };
}

/** The plugin set a chain belongs to: its number, and who is still using it. */
export interface ChainOwner {
  readonly number: number;
  hold(): void;
  release(): void;
}

/** A set loaded once at start and never replaced: nothing to count. */
const FIRST_SET: ChainOwner = { number: 1, hold() {}, release() {} };

/** The plugins of one proxy, grouped by the hooks they use. */
export class PluginChain implements HookChain, RecordHook {
  readonly routeName: string;
  readonly plugins: readonly PluginInstance[];
  /** The instances using each hook, in chain order. */
  readonly hooks: Readonly<Hooked>;
  readonly #bodyLimit: number;
  readonly #messageLimit: number;
  /**
   * Set when a drain timeout freed this chain's set while long-lived streams
   * still used it: their calls go to the newer set's chain for the route
   * (`chain` undefined: the newer set has no plugins for it).
   */
  #moved: { chain: PluginChain | undefined } | undefined;

  readonly #owner: ChainOwner;
  /** The plugins using onCapture or onCaptureBatch, in chain order. */
  readonly #capturers: readonly PluginInstance[];

  /** @param owner the plugin set (generation) the instances belong to */
  constructor(routeName: string, plugins: readonly PluginInstance[], owner: ChainOwner = FIRST_SET) {
    this.routeName = routeName;
    this.#owner = owner;
    this.plugins = plugins;
    const hooks: Hooked = {
      onRequest: [],
      onRequestBody: [],
      onResponse: [],
      onResponseBody: [],
      onSseEvent: [],
      onWsMessage: [],
      onGrpcMessage: [],
      onCapture: [],
      onCaptureBatch: [],
    };
    for (const plugin of plugins) for (const hook of plugin.hooks) hooks[hook].push(plugin);
    this.hooks = hooks;
    this.#capturers = plugins.filter((p) => p.hooks.has("onCapture") || p.hooks.has("onCaptureBatch"));
    this.#bodyLimit = Math.max(0, ...[...hooks.onRequestBody, ...hooks.onResponseBody].map((p) => p.limits.body));
    this.#messageLimit = Math.max(0, ...hooks.onGrpcMessage.map((p) => p.limits.body));
  }

  get generation(): number {
    return this.#owner.number;
  }

  hold(): void {
    this.#owner.hold();
  }

  release(): void {
    this.#owner.release();
  }

  /** The largest body any body hook accepts. */
  get bodyLimit(): number {
    if (this.#moved) return this.#moved.chain?.bodyLimit ?? 0;
    return this.#bodyLimit;
  }

  /** The largest gRPC message any onGrpcMessage hook accepts (its plugin's body limit). */
  get grpcMessageLimit(): number {
    if (this.#moved) return this.#moved.chain?.grpcMessageLimit ?? 0;
    return this.#messageLimit;
  }

  /** Sends every later call to `next`, a newer set's chain for this route (see `#moved`). */
  moveTo(next: PluginChain | undefined): void {
    this.#moved = { chain: next };
  }

  /** Whether some plugin uses `hook` ("onCapture": either capture hook). */
  uses(hook: HookName): boolean {
    if (this.#moved) return this.#moved.chain?.uses(hook) ?? false;
    if (hook === "onCapture") return this.#capturers.length > 0;
    return this.hooks[hook].length > 0;
  }

  bodySkipped(hook: BodyHookName | "onGrpcMessage"): void {
    if (this.#moved) return this.#moved.chain?.bodySkipped(hook);
    for (const plugin of this.hooks[hook]) plugin.metrics.bodiesSkipped++;
  }

  /** Whether some body hook of `hook` wants a body of this type and size. */
  wantsBody(hook: BodyHookName, contentType: string | undefined, size: number): boolean {
    if (this.#moved) return this.#moved.chain?.wantsBody(hook, contentType, size) ?? false;
    return this.hooks[hook].some((plugin) => size <= plugin.limits.body && plugin.wantsBody(contentType));
  }

  /** Runs onRequest through the chain. */
  runRequest(view: RequestView, headers: RawHeaders, context: HookContext): RequestDecision {
    if (this.#moved?.chain) return this.#moved.chain.runRequest(view, headers, context);
    const decision: RequestDecision = { method: view.method, url: view.url, headers, capture: true };
    for (const plugin of this.hooks.onRequest) {
      const outcome = plugin.invoke("onRequest", `[${viewArg(plugin.reads, "request", view)}]`, context);
      if (!outcome.ok) {
        if (plugin.fail === "closed") return this.#refuse(decision, plugin);
        continue;
      }
      const patch = outcome.value as RequestPatch | undefined | null;
      if (patch === undefined || patch === null) continue;
      try {
        if (!isObject(patch)) throw new Error("onRequest must return an object or undefined");
        // Applied to copies first, so an invalid patch changes nothing (not half of it).
        const next = { ...decision };
        const nextView = { ...view, headers: { ...view.headers } };
        applyRequestPatch(next, nextView, patch);
        Object.assign(decision, next);
        Object.assign(view, nextView);
      } catch (error) {
        plugin.failed("onRequest", "invalid", (error as Error).message);
        if (plugin.fail === "closed") return this.#refuse(decision, plugin);
        continue;
      }
      if (decision.respond) break;
    }
    return decision;
  }

  #refuse(decision: RequestDecision, plugin: PluginInstance): RequestDecision {
    plugin.metrics.requestsRefused++;
    decision.respond = pluginFailure(plugin.id);
    return decision;
  }

  /**
   * Runs a body hook through the chain. Returns the new text (undefined when
   * unchanged) or a refusal when a closed plugin failed.
   */
  runBody(hook: BodyHookName, call: BodyHookCall, context: HookContext): { text: string | undefined } | Refusal {
    if (this.#moved) return this.#moved.chain?.runBody(hook, call, context) ?? { text: undefined };
    let changed: string | undefined;
    for (const plugin of this.hooks[hook]) {
      if (call.size > plugin.limits.body || !plugin.wantsBody(call.contentType)) {
        plugin.metrics.bodiesSkipped++;
        continue;
      }
      const request = viewArg(plugin.reads, "request", call.request, true);
      const rest = call.response ? `${viewArg(plugin.reads, "response", call.response)},${request}` : request;
      // The body stays on the host for a plugin that does not read it (host.text works on it there).
      const body = changed ?? call.text;
      const reads = plugin.reads.all || plugin.reads.reads(hook === "onRequestBody" ? "request.body" : "response.body");
      const args = bodyArgs(reads ? body : null, rest);
      const text: TextSubject = { text: body };
      const outcome = plugin.invoke(hook, args.json, context, { lifted: args.lifted, text });
      if (!outcome.ok) {
        if (plugin.fail === "closed") return this.#refused(plugin);
        continue;
      }
      const value = outcome.value ?? text.changed;
      if (value === undefined || value === null) continue;
      if (typeof value !== "string") {
        plugin.failed(hook, "invalid", `${hook} must return a string or undefined`);
        if (plugin.fail === "closed") return this.#refused(plugin);
        continue;
      }
      changed = value;
    }
    return { text: changed };
  }

  #refused(plugin: PluginInstance): Refusal {
    plugin.metrics.requestsRefused++;
    return { refusedBy: plugin.id };
  }

  /** Runs onResponse through the chain; returns the patched head or a refusal. */
  runResponse(head: ResponseHead, request: RequestView, context: HookContext): ResponseHead | Refusal {
    if (this.#moved) return this.#moved.chain?.runResponse(head, request, context) ?? head;
    const result = { ...head };
    const view = responseView(head);
    for (const plugin of this.hooks.onResponse) {
      const args = `[${viewArg(plugin.reads, "response", view)},${viewArg(plugin.reads, "request", request, true)}]`;
      const outcome = plugin.invoke("onResponse", args, context);
      if (!outcome.ok) {
        if (plugin.fail === "closed") return this.#refused(plugin);
        continue;
      }
      const patch = outcome.value as ResponsePatch | undefined | null;
      if (patch === undefined || patch === null) continue;
      try {
        if (!isObject(patch)) throw new Error("onResponse must return an object or undefined");
        // Applied to copies first, so an invalid patch changes nothing (not half of it).
        const next = { ...result };
        const nextView = { ...view, headers: { ...view.headers } };
        const status: unknown = patch.status;
        if (status !== undefined) {
          if (typeof status !== "number" || !Number.isInteger(status) || status < 200 || status > 599) {
            throw new Error(`Invalid status ${JSON.stringify(status)}: must be an integer from 200 to 599`);
          }
          next.status = status;
          nextView.status = status;
        }
        if (patch.status_text !== undefined) {
          next.statusText = String(patch.status_text).replace(/[\r\n]/g, " ");
          nextView.status_text = next.statusText;
        }
        if (patch.headers !== undefined) {
          if (!isObject(patch.headers)) throw new Error("`headers` must be an object");
          next.headers = patchHeaders(next.headers, patch.headers as Record<string, string | null>);
          for (const [name, value] of Object.entries(patch.headers)) {
            if (value === null) delete nextView.headers[name.toLowerCase()];
            else nextView.headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
          }
        }
        Object.assign(result, next);
        Object.assign(view, nextView);
      } catch (error) {
        plugin.failed("onResponse", "invalid", (error as Error).message);
        if (plugin.fail === "closed") return this.#refused(plugin);
      }
    }
    return result;
  }

  /** Runs onSseEvent: the event to send (undefined when unchanged) or null to drop it. */
  runSseEvent(event: SseEventView, request: RequestView, context: HookContext): SseEventView | null | undefined {
    if (this.#moved) return this.#moved.chain?.runSseEvent(event, request, context);
    let current: SseEventView | undefined;
    for (const plugin of this.hooks.onSseEvent) {
      const requestJson = viewArg(plugin.reads, "request", request, true);
      const outcome = plugin.invoke("onSseEvent", `[${JSON.stringify(current ?? event)},${requestJson}]`, context);
      if (!outcome.ok) {
        if (plugin.fail === "closed") return null;
        continue;
      }
      const value = outcome.value;
      if (value === undefined) continue;
      if (value === null) return null;
      if (!isObject(value) || typeof value.data !== "string") {
        plugin.failed("onSseEvent", "invalid", "onSseEvent must return an event with string data, null or undefined");
        if (plugin.fail === "closed") return null;
        continue;
      }
      current = {
        event: typeof value.event === "string" && value.event !== "" ? value.event : "message",
        data: value.data,
        ...(typeof value.id === "string" ? { id: value.id } : {}),
        ...(Number.isInteger(value.retry) ? { retry: value.retry as number } : {}),
      };
    }
    return current;
  }

  /** Runs onWsMessage on a text message: the new text (undefined when unchanged) or null to drop it. */
  runWsMessage(message: WsMessageView, connection: WsConnectionView, context: HookContext): string | null | undefined {
    if (this.#moved) return this.#moved.chain?.runWsMessage(message, connection, context);
    let current: string | undefined;
    const connectionJson = JSON.stringify(connection);
    for (const plugin of this.hooks.onWsMessage) {
      const view = current === undefined ? message : { ...message, data: current };
      const outcome = plugin.invoke("onWsMessage", `[${JSON.stringify(view)},${connectionJson}]`, context);
      if (!outcome.ok) {
        if (plugin.fail === "closed") return null;
        continue;
      }
      const value = outcome.value;
      if (value === undefined) continue;
      if (value === null) return null;
      if (typeof value === "string") current = value;
      else if (isObject(value) && typeof value.data === "string") current = value.data;
      else {
        plugin.failed("onWsMessage", "invalid", "onWsMessage must return a string, {data}, null or undefined");
        if (plugin.fail === "closed") return null;
      }
    }
    return current;
  }

  /**
   * Runs onGrpcMessage on one whole message: its new bytes (undefined when
   * unchanged) or null to drop it. A plugin returns `{payload_json}`, turned
   * into bytes with the method's descriptors, or `{payload}` in base64; the
   * next plugin sees the message as changed.
   */
  runGrpcMessage(
    message: { direction: GrpcMessageView["direction"]; compressed: boolean; payload: Uint8Array },
    call: GrpcCallView,
    codec: GrpcCodec | undefined,
    context: HookContext,
  ): GrpcMessageBytes | null | undefined {
    if (this.#moved) return this.#moved.chain?.runGrpcMessage(message, call, codec, context);
    let changed: GrpcMessageBytes | undefined;
    let viewJson: string | undefined;
    const callJson = JSON.stringify(call);
    for (const plugin of this.hooks.onGrpcMessage) {
      const current = changed ?? message;
      if (current.payload.byteLength > plugin.limits.body) {
        plugin.metrics.bodiesSkipped++;
        continue;
      }
      viewJson ??= JSON.stringify(grpcMessageView(message.direction, current, codec));
      const outcome = plugin.invoke("onGrpcMessage", `[${viewJson},${callJson}]`, context);
      if (!outcome.ok) {
        if (plugin.fail === "closed") return null;
        continue;
      }
      const value = outcome.value;
      if (value === undefined) continue;
      if (value === null) return null;
      try {
        changed = grpcPayloadOf(value, current, codec);
        viewJson = undefined;
      } catch (error) {
        plugin.failed("onGrpcMessage", "invalid", (error as Error).message);
        if (plugin.fail === "closed") return null;
      }
    }
    return changed;
  }

  /**
   * Runs onCapture: the record to write, or null when a plugin dropped it
   * (or failed closed). Waits for a sandbox being rebuilt, since records are
   * off the forwarding path.
   */
  async runCapture(record: CaptureRecord): Promise<{ record: CaptureRecord | null; droppedBy?: string }> {
    const [out] = await this.runCaptures([record]);
    return out!;
  }

  /**
   * Runs onCapture over many records: each one's record to write, or null
   * when a plugin dropped it. A plugin exporting `onCaptureBatch` sees up to
   * CAPTURE_BATCH records per call (one crossing, one deadline); the others
   * one record per call.
   */
  async runCaptures(records: readonly CaptureRecord[]): Promise<CaptureOutcome[]> {
    if (this.#moved) return this.#moved.chain?.runCaptures(records) ?? records.map((record) => ({ record }));
    const out: CaptureOutcome[] = records.map((record) => ({ record }));
    for (const plugin of this.#capturers) {
      await plugin.whenReady();
      const live = out.filter((entry): entry is { record: CaptureRecord } => entry.record !== null);
      if (plugin.hooks.has("onCaptureBatch")) {
        for (let at = 0; at < live.length; at += CAPTURE_BATCH) {
          this.#captureBatch(plugin, live.slice(at, at + CAPTURE_BATCH));
        }
      } else {
        for (const entry of live) this.#captureOne(plugin, entry);
      }
    }
    return out;
  }

  /** One onCapture call; updates `entry` with the record the plugin leaves. */
  #captureOne(plugin: PluginInstance, entry: CaptureOutcome): void {
    const record = entry.record!;
    const context: HookContext = {
      routeName: this.routeName,
      connectionId: connectionOf(record),
      generation: this.generation,
    };
    const args = recordArgs(plugin.reads, record);
    const subject: RecordSubject = { record: record as unknown as Record<string, unknown> };
    const outcome = plugin.invoke("onCapture", args.json, context, { lifted: args.lifted, records: [subject] });
    if (!outcome.ok) {
      if (plugin.fail === "closed") this.#drop(plugin, entry);
      return;
    }
    this.#settle(plugin, "onCapture", entry, subject, outcome.value);
  }

  /**
   * One onCaptureBatch call over `entries`. When it fails, each record is
   * tried again alone, and the fail mode applies to those that fail alone.
   */
  #captureBatch(plugin: PluginInstance, entries: CaptureOutcome[]): void {
    const context: HookContext = { routeName: this.routeName, generation: this.generation };
    const records = entries.map((entry) => entry.record!);
    const args = recordsArgs(plugin.reads, records);
    const subjects: RecordSubject[] = records.map((record) => ({
      record: record as unknown as Record<string, unknown>,
    }));
    const outcome = plugin.invoke("onCaptureBatch", args.json, context, { lifted: args.lifted, records: subjects });
    let results: unknown[] | undefined;
    if (outcome.ok) {
      const value = outcome.value;
      if (value === undefined) results = [];
      else if (Array.isArray(value) && value.length === entries.length) results = value;
      else {
        plugin.failed(
          "onCaptureBatch",
          "invalid",
          `onCaptureBatch must return undefined or a list of ${entries.length} results (one per record)`,
        );
      }
    }
    if (results === undefined) {
      // One bad record must not take its batch-mates with it: they are tried
      // again one per call (at most one deadline more than onCapture costs).
      if (entries.length > 1) { for (const entry of entries) this.#captureBatch(plugin, [entry]); }
      else if (plugin.fail === "closed") this.#drop(plugin, entries[0]!);
      return;
    }
    // The dispatcher sends an undefined entry as 0 (JSON has no undefined).
    entries.forEach((entry, i) => {
      const result = results[i] === 0 ? undefined : results[i];
      this.#settle(plugin, "onCaptureBatch", entry, subjects[i]!, result);
    });
  }

  /**
   * Applies what a capture hook made of one record: undefined (unchanged,
   * unless host.record changed it), null (dropped), or the record (the part
   * read, for a plugin that read part of it).
   */
  #settle(plugin: PluginInstance, hook: HookName, entry: CaptureOutcome, subject: RecordSubject, returned: unknown) {
    const current = entry.record!;
    let value = returned;
    if (value === null) return this.#drop(plugin, entry);
    if (value === undefined) {
      if (subject.changed === undefined) return;
      value = subject.changed;
    } else if (isObject(value) && !plugin.reads.all) {
      // A plugin that read part of the record returns that part: merged onto
      // the whole, after what host.record changed.
      value = mergeRecord(subject.changed ?? subject.record, value);
    }
    if (!isObject(value) || value.type !== current.type || value.id !== current.id || !isValidRecord(value)) {
      plugin.failed(hook, "invalid", `${hook} must return the record (same type and id, valid), null or undefined`);
      if (plugin.fail === "closed") this.#drop(plugin, entry);
      return;
    }
    entry.record = value as unknown as CaptureRecord;
  }

  #drop(plugin: PluginInstance, entry: CaptureOutcome): void {
    plugin.metrics.recordsDropped++;
    entry.record = null;
    entry.droppedBy = plugin.id;
  }
}

function connectionOf(record: CaptureRecord): string | undefined {
  return record.type === "http" ? record.id : record.connection_id;
}

/** Applies one onRequest patch to the decision and to the view the next plugin sees. */
function applyRequestPatch(decision: RequestDecision, view: RequestView, patch: RequestPatch): void {
  if (patch.respond !== undefined) {
    const respond = patch.respond;
    if (!isObject(respond) || !Number.isInteger(respond.status) || respond.status < 200 || respond.status > 599) {
      throw new Error("`respond` must be {status (200-599), headers?, body?}");
    }
    if (respond.body !== undefined && typeof respond.body !== "string") {
      throw new Error("`respond.body` must be a string");
    }
    if (respond.headers !== undefined && !isObject(respond.headers)) {
      throw new Error("`respond.headers` must be an object");
    }
    // Validates names and values (no CR/LF injection) before the host writes them.
    if (respond.headers !== undefined) patchHeaders([], respond.headers as Record<string, string | string[]>);
    decision.respond = respond;
  }
  if (patch.capture === false) decision.capture = false;
  if (patch.method !== undefined) {
    if (typeof patch.method !== "string" || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(patch.method)) {
      throw new Error(`Invalid method ${JSON.stringify(patch.method)}`);
    }
    decision.method = view.method = patch.method;
  }
  if (patch.url !== undefined) {
    if (typeof patch.url !== "string" || !patch.url.startsWith("/") || /[\s\0]/.test(patch.url)) {
      throw new Error(`Invalid url ${JSON.stringify(patch.url)}: must be a path starting with /`);
    }
    decision.url = view.url = patch.url;
    const queryAt = patch.url.indexOf("?");
    view.path = queryAt === -1 ? patch.url : patch.url.slice(0, queryAt);
    view.query = queryAt === -1 ? "" : patch.url.slice(queryAt + 1);
  }
  if (patch.headers !== undefined) {
    if (!isObject(patch.headers)) throw new Error("`headers` must be an object");
    decision.headers = patchHeaders(decision.headers, patch.headers as Record<string, string | null>);
    for (const [name, value] of Object.entries(patch.headers)) {
      if (value === null) delete view.headers[name.toLowerCase()];
      else view.headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
    }
  }
}
