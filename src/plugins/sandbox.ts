/**
 * One plugin's QuickJS sandbox: its module evaluated in a context of its own,
 * on a WebAssembly module of its own with capped memory, a 256 KiB stack and
 * a deadline per call enforced by the interrupt handler (which also stops
 * regular expressions mid-match). Values cross as JSON text, long texts as
 * strings of their own, through the fast path of quickjs-bridge.ts. The only
 * host functions inside are `emit`, `log`, `now` (plus `console`, which logs)
 * and `host.patterns`, `host.record` and `host.text` (host-patterns.ts,
 * host-record.ts, host-text.ts).
 *
 * After a timeout the context is rebuilt at once on the same module; after
 * running out of memory the module is unusable (QuickJS aborts on cleanup), so
 * a new module is loaded in the background and calls fail as `oom` meanwhile.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";
import { ConfigError } from "../shared/errors.ts";
import { type Engine, loadEngine } from "./engine.ts";
import { type LeanHostFunction, MAX_ARGS, QuickJSBridge } from "./quickjs-bridge.ts";
import { HostPatterns } from "./host-patterns.ts";
import { HostRecord, type RecordSubject } from "./host-record.ts";
import { HostText, type TextSubject } from "./host-text.ts";
import { HOOK_NAMES, type HookName } from "../core/hooks.ts";

/** QuickJS stack limit: deeper recursion is a catchable stack overflow, not a host crash. */
const STACK_BYTES = 256 * 1024;
/** Memory within this much of the cap after a failure means the plugin ran out of it. */
const OOM_MARGIN = 2 * 1024 * 1024;

/** What the sandbox's host functions reach. */
export interface SandboxHost {
  /** `emit(data)`: the data as JSON text. */
  emit(json: string): void;
  log(level: string, message: string): void;
}

/** The outcome of one call into the sandbox. */
export type CallOutcome =
  | { ok: true; value: unknown }
  | { ok: false; kind: "error" | "timeout" | "oom" | "unavailable"; message: string };

export interface SandboxOptions {
  /** The plugin's ES module source. */
  source: string;
  /** Shown in stack traces and load errors. */
  fileName: string;
  /** WebAssembly memory cap in bytes. */
  memory: number;
  /** Deadline of module evaluation. */
  loadMs: number;
  host: SandboxHost;
}

/**
 * Built-ins whose cost grows with their input and that never call back into
 * JavaScript. QuickJS checks the interrupt handler only between JavaScript
 * steps, counting a call to one of these as one step however long it runs, so
 * a loop over them (`for (;;) JSON.stringify(big)`) would overrun a deadline
 * ten-thousandfold. Wrapped, they spend a budget weighted by the size of what
 * they work on (`this` or the first argument; the costliest always spend it
 * all), and each time the budget is spent the host is asked whether the
 * deadline has passed (a host call costs microseconds, so not on every call).
 * Once it has, every call throws.
 */
const GUARDED_BUILTINS = `[
  [JSON, "always", ["stringify", "parse"]],
  [Object, "argument", ["keys", "values", "entries", "assign", "fromEntries"]],
  [Array, "argument", ["from"]],
  [Array.prototype, "always", ["sort", "toSorted"]],
  [Array.prototype, "this", ["join", "slice", "splice", "concat", "indexOf", "lastIndexOf", "includes", "fill",
    "reverse", "flat", "copyWithin", "toString", "toReversed"]],
  [String.prototype, "this", ["repeat", "split", "replace", "replaceAll", "indexOf", "lastIndexOf", "includes",
    "padStart", "padEnd", "normalize", "toUpperCase", "toLowerCase", "match", "matchAll", "search", "localeCompare",
    "concat"]],
]`;

/** Runs before the plugin: keeps private copies of what the dispatcher needs, then installs the globals. */
const BOOTSTRAP = `(() => {
  const parse = JSON.parse, stringify = JSON.stringify, apply = Reflect.apply, define = Object.defineProperty;
  const isArray = Array.isArray;
  const includes = String.prototype.includes, split = String.prototype.split, slice = String.prototype.slice;
  const hostEmit = globalThis.__tapline_emit, hostLog = globalThis.__tapline_log, hostNow = globalThis.__tapline_now;
  const overdue = globalThis.__tapline_overdue, hostPatterns = globalThis.__tapline_patterns;
  const hostRecord = globalThis.__tapline_record, hostText = globalThis.__tapline_text;
  delete globalThis.__tapline_patterns;
  delete globalThis.__tapline_record;
  delete globalThis.__tapline_text;
  delete globalThis.__tapline_emit; delete globalThis.__tapline_log; delete globalThis.__tapline_now;
  delete globalThis.__tapline_overdue;
  const BUDGET = 64;
  let budget = BUDGET, expired = false;
  const spend = (weight) => {
    if (expired || ((budget -= weight) <= 0 && (budget = BUDGET, expired = overdue() !== undefined))) {
      throw new Error("interrupted: deadline exceeded");
    }
  };
  const sizeOf = (value) => (value !== null && value !== undefined && typeof value.length === "number" ? value.length : 0);
  for (const [owner, mode, names] of ${GUARDED_BUILTINS}) {
    for (const name of names) {
      const original = owner[name];
      if (typeof original !== "function") continue;
      const guarded = mode === "always"
        ? { [name](...args) { spend(BUDGET); return apply(original, this, args); } }[name]
        : mode === "this"
        ? { [name](...args) { spend(1 + (sizeOf(this) >>> 8)); return apply(original, this, args); } }[name]
        : { [name](...args) { spend(1 + (sizeOf(args[0]) >>> 8)); return apply(original, this, args); } }[name];
      define(owner, name, { value: guarded, writable: true, configurable: true, enumerable: false });
    }
  }
  const text = (args) => args.map((a) => typeof a === "string" ? a : stringify(a)).join(" ");
  globalThis.emit = (data) => { hostEmit(stringify(data === undefined ? null : data)); };
  globalThis.log = (level, message) => { hostLog(String(level), typeof message === "string" ? message : stringify(message)); };
  globalThis.now = () => { spend(BUDGET); return hostNow(); };
  // host.patterns and host.record (host-patterns.ts, host-record.ts): the host answers "=" + value or "!" + error.
  const hostCall = (fn, args) => {
    const answer = apply(fn, undefined, args);
    if (typeof answer !== "string") throw new Error("host: the host could not answer (out of memory)");
    if (answer[0] === "!") throw new Error(apply(slice, answer, [1]));
    return apply(slice, answer, [1]);
  };
  const patternCall = (args) => hostCall(hostPatterns, args);
  const textOf = (value) => {
    if (typeof value !== "string") throw new TypeError("host.patterns: text must be a string");
    return value;
  };
  const patterns = Object.freeze({
    compile: (list) => +patternCall(["compile", stringify(list)]),
    builtin: (names) => +patternCall(["builtin", stringify(names)]),
    scan: (text, id) => {
      const found = patternCall(["scan", String(id), textOf(text)]);
      return found === "" ? [] : parse("[" + found + "]");
    },
    test: (text, id) => patternCall(["test", String(id), textOf(text)]) === "1",
    replaceAll: (text, id, replacement) => patternCall(["replace", String(id), textOf(text), String(replacement)]),
  });
  const record = Object.freeze({
    scrubber: (spec) => +hostCall(hostRecord, ["scrubber", stringify(spec)]),
    scrub: (id, index) => hostCall(hostRecord, ["scrub", String(id), index === undefined ? "" : String(index)]) === "1",
  });
  const textApi = Object.freeze({
    rewriter: (steps) => +hostCall(hostText, ["rewriter", stringify(steps)]),
    rewrite: (id) => hostCall(hostText, ["rewrite", String(id)]) === "1",
  });
  globalThis.host = Object.freeze({ patterns, record, text: textApi });
  globalThis.console = {
    log: (...a) => hostLog("info", text(a)), info: (...a) => hostLog("info", text(a)),
    debug: (...a) => hostLog("debug", text(a)), warn: (...a) => hostLog("warn", text(a)),
    error: (...a) => hostLog("error", text(a)),
  };
  // A returned object's long texts at the paths texts were lifted from (a
  // record's bodies) leave beside its JSON too: "l" + their lengths and paths
  // ("<length> <path>" joined by "\\n") + ";" + the JSON + the texts. Returns
  // "" when there is none to lift.
  const liftBack = (r, paths) => {
    const head = [], texts = [], restore = [];
    for (let i = 0; i < paths.length; i++) {
      const keys = apply(split, paths[i], ["."]);
      if (keys[0] !== "0") continue;
      let target = r;
      for (let k = 1; k < keys.length - 1 && target !== null && typeof target === "object"; k++) target = target[keys[k]];
      if (target === null || typeof target !== "object") continue;
      const key = keys[keys.length - 1], text = target[key];
      if (typeof text !== "string" || text.length < 256 || apply(includes, text, ["\\0"])) continue;
      head.push(text.length + " " + apply(slice, paths[i], [2]));
      texts.push(text);
      restore.push(target, key, text);
      target[key] = undefined;
    }
    if (texts.length === 0) return "";
    let j;
    try {
      j = stringify(r);
    } finally {
      for (let i = 0; i < restore.length; i += 3) restore[i][restore[i + 1]] = restore[i + 2];
    }
    return "l" + head.join("\\n") + ";" + j + texts.join("");
  };
  // Arguments: the hook, a JSON array, the paths of lifted texts (one per
  // line) and the texts. Long strings (bodies) cross as they are instead of
  // inside the JSON: "@" puts a text first among the arguments, "0.response.body"
  // sets a property of an argument. The answer is always a string, so the
  // host reads it without asking its type: "" for undefined, "s" + a string
  // without NUL (no JSON to write), else "j" + JSON.
  return (fn, json, paths, ...texts) => {
    budget = BUDGET;
    expired = false;
    let args = parse(json);
    if (paths !== "") {
      const list = apply(split, paths, ["\\n"]);
      for (let i = 0; i < list.length; i++) {
        const path = list[i];
        if (path === "@") {
          args = [texts[i], ...args];
          continue;
        }
        const keys = apply(split, path, ["."]);
        let target = args;
        for (let k = 0; k < keys.length - 1; k++) target = target[keys[k]];
        target[keys[keys.length - 1]] = texts[i];
      }
    }
    let r = apply(fn, undefined, args);
    if (r instanceof Promise) throw new TypeError("hooks must be synchronous: this one returned a Promise");
    if (r === undefined) return "";
    if (typeof r === "string" && !apply(includes, r, ["\\0"])) return "s" + r;
    // A list of results (onCaptureBatch) keeps "unchanged" apart from null,
    // which JSON would not: undefined entries cross as 0.
    if (isArray(r)) {
      const list = [];
      for (let i = 0; i < r.length; i++) list[i] = r[i] === undefined ? 0 : r[i];
      r = list;
    }
    if (paths !== "" && typeof r === "object" && r !== null) {
      const back = liftBack(r, apply(split, paths, ["\\n"]));
      if (back !== "") return back;
    }
    const j = stringify(r);
    return j === undefined ? "" : "j" + j;
  };
})()`;

/** A live context and the handles the host keeps into it. */
interface Live {
  runtime: QuickJSRuntime;
  context: QuickJSContext;
  bridge: QuickJSBridge;
  dispatch: QuickJSHandle;
  hooks: Map<HookName | "setup", QuickJSHandle>;
  manifest: unknown;
}

/** A location `file:line:column` from a QuickJS stack or error. */
function locate(error: Record<string, unknown>, fileName: string): { line?: number; column?: number } {
  const stack = typeof error.stack === "string" ? error.stack : "";
  const escaped = fileName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`${escaped}:(\\d+):(\\d+)`).exec(stack);
  if (match) return { line: Number(match[1]), column: Number(match[2]) };
  return typeof error.lineNumber === "number" ? { line: error.lineNumber } : {};
}

/**
 * Strings passed beside the JSON arguments, each with where it goes: `@`
 * (before the other arguments) or a dotted path from an argument index
 * (`0.response.body`). None may hold a NUL character (C strings end there):
 * build them with `liftText`.
 */
export interface LiftedTexts {
  paths: string[];
  texts: string[];
}

/** What a call may carry beside its JSON arguments. */
export interface CallExtras {
  /** Long texts passed beside the JSON. */
  lifted?: LiftedTexts | undefined;
  /** For onCapture and onCaptureBatch: the records `host.record` works on (they stay on the host). */
  records?: readonly RecordSubject[] | undefined;
  /** For body hooks: the body `host.text` works on (it stays on the host). */
  text?: TextSubject | undefined;
}

/** Texts one call lifts at most; the call passes them as arguments beside the hook and the JSON. */
const MAX_LIFTED_TEXTS = MAX_ARGS - 8;

/**
 * Adds `text` to `lifted` for `path` and returns true, or returns false when
 * it must stay inside the JSON (it holds a NUL character, or the call has
 * lifted as many texts as it may pass).
 */
export function liftText(lifted: LiftedTexts, path: string, text: string): boolean {
  if (text.includes("\0") || lifted.texts.length >= MAX_LIFTED_TEXTS) return false;
  lifted.paths.push(path);
  lifted.texts.push(text);
  return true;
}

/** The dispatcher's answer: "" (undefined), "s" + a string, "j" + JSON, or "l" + JSON with lifted texts. */
function decodeAnswer(answer: string): unknown {
  if (answer === "") return undefined;
  if (answer[0] === "s") return answer.slice(1);
  if (answer[0] !== "l") return JSON.parse(answer.slice(1));
  // "l" + "<length> <path>" lines + ";" + JSON + the texts, in order (see liftBack in BOOTSTRAP).
  const semicolon = answer.indexOf(";");
  const lifted = answer.slice(1, semicolon).split("\n").map((line) => {
    const space = line.indexOf(" ");
    return { length: Number(line.slice(0, space)), keys: line.slice(space + 1).split(".") };
  });
  const textsLength = lifted.reduce((sum, entry) => sum + entry.length, 0);
  let at = answer.length - textsLength;
  const value = JSON.parse(answer.slice(semicolon + 1, at)) as Record<string, unknown>;
  for (const { length, keys } of lifted) {
    let target: Record<string, unknown> = value;
    for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
    target[keys[keys.length - 1]!] = answer.slice(at, at += length);
  }
  return value;
}

/** A QuickJS sandbox running one plugin module. Create with `PluginSandbox.load`. */
export class PluginSandbox {
  readonly #options: SandboxOptions;
  #engine: Engine;
  #live: Live | undefined;
  #deadline = Infinity;
  #interrupted = false;
  /** Calls `setup` again with this after a rebuild. */
  #setupJson: string | undefined;
  #setupMs = 0;
  #rebuilding: Promise<void> | undefined;
  #disposed = false;
  /** Pattern sets compiled through `host.patterns` by the current context. */
  readonly #patterns = new HostPatterns();
  /** Scrubbers built through `host.record`, and the record of the onCapture call under way. */
  readonly #record = new HostRecord(this.#patterns);
  /** Rewriters built through `host.text`, and the body of the body hook call under way. */
  readonly #text = new HostText(this.#patterns);
  /** How many host.* objects the module built when evaluated (kept when setup runs again). */
  #evaluated = { patterns: 0, scrubbers: 0, rewriters: 0 };

  private constructor(options: SandboxOptions, engine: Engine) {
    this.#options = options;
    this.#engine = engine;
  }

  /**
   * Loads and evaluates a plugin module.
   *
   * @throws ConfigError naming the file, line and column when it does not compile or throws.
   */
  static async load(options: SandboxOptions): Promise<PluginSandbox> {
    const sandbox = new PluginSandbox(options, await loadEngine(options.memory));
    sandbox.#live = sandbox.#evaluate();
    return sandbox;
  }

  /** The module's `manifest` export, as plain data (undefined when absent). */
  get manifest(): unknown {
    return this.#live?.manifest;
  }

  /** Hook functions the module exports. */
  get exportedHooks(): HookName[] {
    return HOOK_NAMES.filter((name) => this.#live?.hooks.has(name));
  }

  get hasSetup(): boolean {
    return this.#live?.hooks.has("setup") ?? false;
  }

  /** False while a new module loads after running out of memory. */
  get ready(): boolean {
    return this.#live !== undefined;
  }

  /** Resolves when the sandbox is usable again (at once when it is). */
  whenReady(): Promise<void> {
    return this.#rebuilding ?? Promise.resolve();
  }

  /** Bytes of WebAssembly memory in use now (it never shrinks). */
  get memoryBytes(): number {
    return this.#engine.memory.buffer.byteLength;
  }

  /**
   * Calls `setup(config)` (when exported) and remembers the config, so a
   * rebuilt sandbox is set up the same way. Returns setup's result.
   */
  setup(configJson: string, timeoutMs: number): CallOutcome {
    if (!this.hasSetup) return { ok: true, value: undefined };
    // What an earlier setup call built through host.* is replaced, not added to;
    // what the module built when it was evaluated stays.
    this.#patterns.truncate(this.#evaluated.patterns);
    this.#record.truncate(this.#evaluated.scrubbers);
    this.#text.truncate(this.#evaluated.rewriters);
    const outcome = this.call("setup", `[${configJson}]`, timeoutMs);
    // Remembered only once it worked: a rebuild after a setup that timed out
    // must not run it again (it would time out again, and rebuild again, forever).
    if (outcome.ok) {
      this.#setupJson = configJson;
      this.#setupMs = timeoutMs;
    }
    return outcome;
  }

  /**
   * Calls an exported function with `argsJson` (a JSON array) and the
   * `lifted` texts put in place (see `liftText`), and returns its result
   * parsed. Never throws: failures come back classified.
   */
  call(name: HookName | "setup", argsJson: string, timeoutMs: number, extra: CallExtras = {}): CallOutcome {
    const { lifted, records, text } = extra;
    const live = this.#live;
    if (!live) {
      return { ok: false, kind: "unavailable", message: "sandbox is being rebuilt after running out of memory" };
    }
    const fn = live.hooks.get(name);
    if (!fn) return { ok: true, value: undefined };
    const { context, bridge } = live;
    const texts = [argsJson, lifted?.paths.join("\n") ?? "", ...(lifted?.texts ?? [])];
    this.#interrupted = false;
    this.#deadline = performance.now() + timeoutMs;
    this.#record.subjects = records;
    this.#text.subject = text;
    let outcome: CallOutcome;
    try {
      const result = bridge.call(live.dispatch, context.undefined, [fn], texts);
      if (result.error !== undefined) {
        const error = bridge.handle(result.error);
        outcome = this.#failure(context, error);
        error.dispose();
      } else {
        const answer = bridge.readString(result.value);
        bridge.free(result.value);
        // A plugin that caught the deadline error and returned anyway still overran.
        outcome = this.#interrupted
          ? { ok: false, kind: "timeout", message: "deadline exceeded" }
          : { ok: true, value: decodeAnswer(answer) };
      }
    } catch (error) {
      // The module itself failed (an abort from exhausted memory): it cannot be used again.
      outcome = { ok: false, kind: "oom", message: (error as Error).message };
    } finally {
      this.#deadline = Infinity;
      this.#record.subjects = undefined;
      this.#text.subject = undefined;
    }
    if (!outcome.ok && (outcome.kind === "timeout" || outcome.kind === "oom")) this.#recover(outcome.kind);
    return outcome;
  }

  #failure(context: QuickJSContext, handle: QuickJSHandle): CallOutcome {
    if (this.#interrupted) return { ok: false, kind: "timeout", message: "deadline exceeded" };
    let message = "";
    /** Whether the thrown value could be read: when memory ran out, it comes back as null or not at all. */
    let readable = false;
    try {
      const error = context.dump(handle) as Record<string, unknown> | string | null | undefined;
      readable = error !== null && error !== undefined;
      message = typeof error === "object" && error !== null
        ? `${error.name ?? "Error"}: ${error.message ?? ""}`
        : String(error);
    } catch {
      // Dumping needs memory too.
    }
    // The WebAssembly memory never shrinks, so being near the cap alone does
    // not mean this call ran out: an ordinary error after an earlier call grew
    // the memory must stay an error.
    const nearCap = this.memoryBytes >= this.#engine.limit - OOM_MARGIN;
    if (message.includes("out of memory") || (nearCap && !readable)) {
      return { ok: false, kind: "oom", message: "out of memory" };
    }
    return { ok: false, kind: "error", message: message || "unknown error" };
  }

  /** After a timeout: a fresh context on the same module. After out of memory: a fresh module. */
  #recover(kind: "timeout" | "oom"): void {
    const live = this.#live;
    this.#live = undefined;
    if (kind === "timeout" && live) {
      try {
        this.#release(live);
        this.#live = this.#evaluate();
        this.#replaySetup();
        return;
      } catch {
        // Fall through to a new module.
      }
    }
    // Do not dispose: QuickJS aborts freeing a runtime whose allocations failed.
    this.#rebuilding ??= (async () => {
      try {
        this.#engine = await loadEngine(this.#options.memory);
        if (this.#disposed) return;
        this.#live = this.#evaluate();
        this.#replaySetup();
      } catch {
        // Left without a context: calls stay unavailable, which each plugin's failure mode handles.
      } finally {
        this.#rebuilding = undefined;
      }
    })();
  }

  #replaySetup(): void {
    if (this.#setupJson === undefined || !this.hasSetup) return;
    const outcome = this.call("setup", `[${this.#setupJson}]`, this.#setupMs);
    if (!outcome.ok) throw new Error(`setup failed after rebuild: ${outcome.message}`);
  }

  #overran(): string {
    this.#interrupted = true;
    return "!interrupted: deadline exceeded";
  }

  /** Evaluates the plugin in a fresh runtime on the current module. */
  #evaluate(): Live {
    this.#patterns.reset();
    this.#record.reset();
    this.#text.reset();
    const { source, fileName, host, loadMs } = this.#options;
    const runtime = this.#engine.module.newRuntime({ maxStackSizeBytes: STACK_BYTES });
    runtime.setInterruptHandler(() => {
      if (performance.now() <= this.#deadline) return false;
      this.#interrupted = true;
      return true;
    });
    // No Date: the only clock a plugin gets is the monotonic now().
    const context = runtime.newContext({
      intrinsics: {
        BaseObjects: true,
        Date: false,
        Eval: true,
        StringNormalize: true,
        RegExp: true,
        JSON: true,
        Proxy: true,
        MapSet: true,
        TypedArrays: true,
        Promise: true,
      },
    });
    const hooks = new Map<HookName | "setup", QuickJSHandle>();
    let dispatch: QuickJSHandle | undefined;
    let bridge: QuickJSBridge | undefined;
    try {
      bridge = new QuickJSBridge(context);
      const emitJson: LeanHostFunction = (args) => {
        host.emit(args[0] ?? "null");
        return undefined;
      };
      bridge.makeLean(emitJson);
      const emit = context.newFunction("emit", emitJson as never);
      const log = context.newFunction("log", (level, message) => {
        host.log(context.getString(level), context.getString(message));
      });
      const now = context.newFunction("now", () => context.newNumber(performance.now()));
      // Lean: answers "1" once the deadline has passed, else undefined.
      const isOverdue: LeanHostFunction = () => {
        if (performance.now() <= this.#deadline) return undefined;
        this.#interrupted = true;
        return "1";
      };
      bridge.makeLean(isOverdue);
      const overdue = context.newFunction("overdue", isOverdue as never);
      // host.patterns, host.record and host.text count against the call's
      // deadline like plugin code: refused once it has passed, and a call that
      // overran it returns the deadline error.
      for (
        const [name, served] of [["patterns", this.#patterns], ["record", this.#record], ["text", this.#text]] as const
      ) {
        const op: LeanHostFunction = (args) => {
          if (performance.now() > this.#deadline) return this.#overran();
          const answer = served.run(args);
          return performance.now() > this.#deadline ? this.#overran() : answer;
        };
        bridge.makeLean(op);
        const fn = context.newFunction(name, op as never);
        context.setProp(context.global, `__tapline_${name}`, fn);
        fn.dispose();
      }
      context.setProp(context.global, "__tapline_overdue", overdue);
      overdue.dispose();
      context.setProp(context.global, "__tapline_emit", emit);
      context.setProp(context.global, "__tapline_log", log);
      context.setProp(context.global, "__tapline_now", now);
      emit.dispose();
      log.dispose();
      now.dispose();
      dispatch = context.unwrapResult(context.evalCode(BOOTSTRAP, "tapline:bootstrap"));

      this.#deadline = performance.now() + loadMs;
      this.#interrupted = false;
      const result = context.evalCode(source, fileName, { type: "module" });
      this.#deadline = Infinity;
      if (result.error) {
        const error = (context.dump(result.error) ?? {}) as Record<string, unknown>;
        result.error.dispose();
        const where = locate(error, fileName);
        const what = this.#interrupted
          ? "evaluation exceeded its deadline"
          : `${error.name ?? "Error"}: ${error.message ?? String(error)}`;
        const at = [fileName, where.line, where.column].filter((part) => part !== undefined).join(":");
        throw new ConfigError(`Failed to load plugin ${at}: ${what}`, {
          file: fileName,
          ...where,
        }, "plugin_invalid");
      }
      this.#evaluated = { patterns: this.#patterns.size, scrubbers: this.#record.size, rewriters: this.#text.size };
      const namespace = result.value;
      if (context.typeof(namespace) !== "object" || context.getPromiseState(namespace).type !== "fulfilled") {
        namespace.dispose();
        throw new ConfigError(
          `Failed to load plugin ${fileName}: top-level await is not supported`,
          { file: fileName },
          "plugin_invalid",
        );
      }
      let manifest: unknown;
      try {
        for (const name of [...HOOK_NAMES, "setup"] as const) {
          const fn = context.getProp(namespace, name);
          if (context.typeof(fn) === "function") hooks.set(name, fn);
          else fn.dispose();
        }
        const manifestHandle = context.getProp(namespace, "manifest");
        manifest = context.dump(manifestHandle);
        manifestHandle.dispose();
      } finally {
        namespace.dispose();
      }
      return { runtime, context, bridge, dispatch, hooks, manifest };
    } catch (error) {
      for (const fn of hooks.values()) fn.dispose();
      dispatch?.dispose();
      bridge?.dispose();
      context.dispose();
      runtime.dispose();
      throw error;
    } finally {
      this.#deadline = Infinity;
    }
  }

  #release(live: Live): void {
    for (const fn of live.hooks.values()) fn.dispose();
    live.dispatch.dispose();
    live.bridge.dispose();
    live.context.dispose();
    live.runtime.dispose();
  }

  /** Frees the sandbox. Safe to call twice. */
  dispose(): void {
    this.#disposed = true;
    const live = this.#live;
    this.#live = undefined;
    if (!live) return;
    try {
      this.#release(live);
    } catch {
      // A module that ran out of memory may abort on cleanup; it is dropped either way.
    }
  }
}
