/**
 * The fast path between the host and one QuickJS context, through
 * quickjs-emscripten's internals (the module's heap and its C functions).
 *
 * Why not the public API: measured on these machines (quickjs-emscripten
 * 0.32, Node), `newString` of 1.7 KB costs ~8.5 µs because emscripten encodes
 * it one character at a time, while `TextEncoder.encodeInto` straight into
 * the heap costs ~1.8 µs; `callFunction` with handles costs 2-6 µs against
 * ~1 µs through `QTS_Call`; and a host function called from plugin code costs
 * 10-20 µs through the public callback path (a generator-driven scope and a
 * lifetime object per argument) against ~3.5 µs read and answered here.
 *
 * These internals are not a public contract: package.json pins the exact
 * version, and test/unit/plugins/quickjs-bridge.test.ts fails on an upgrade
 * that moves them (`QuickJSBridge.check` names what is missing).
 */
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";

/** A pointer to a JSValue in the module heap, owned by whoever holds it. */
export type ValuePointer = number;

/** The parts of the emscripten module used here. */
interface HeapModule {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  HEAPU8: Uint8Array;
}

/** The C functions used here (quickjs-emscripten's interface.c). */
interface Ffi {
  QTS_NewString(ctx: number, chars: number): ValuePointer;
  QTS_GetString(ctx: number, value: ValuePointer): number;
  QTS_FreeCString(ctx: number, chars: number): void;
  QTS_FreeValuePointer(ctx: number, value: ValuePointer): void;
  QTS_Call(ctx: number, fn: ValuePointer, self: ValuePointer, argc: number, argv: number): ValuePointer;
  QTS_ResolveException(ctx: number, value: ValuePointer): ValuePointer;
  QTS_ArgvGetJSValueConstPointer(argv: number, index: number): ValuePointer;
}

/** What the C-to-host callback receives (see QuickJSContext.cToHostCallbacks). */
type CallFunction = (ctx: number, self: ValuePointer, argc: number, argv: number, fnId: number) => ValuePointer;

/** The context's private fields used here. */
interface ContextInternals {
  module: HeapModule;
  ffi: Ffi;
  ctx: { value: number };
  cToHostCallbacks: { callFunction: CallFunction };
  getFunction(fnId: number): unknown;
  memory: { heapValueHandle(value: ValuePointer): QuickJSHandle };
}

/** A host function answering with a string (or undefined) to string arguments. */
export type LeanHostFunction = (args: string[]) => string | undefined;

/** Arguments one call may pass at most (a batch of records passes each long body as one). */
export const MAX_ARGS = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The outcome of `QuickJSBridge.call`: a result or a thrown value, each owned by the caller. */
export type BridgeResult = { value: ValuePointer; error?: undefined } | { error: ValuePointer };

/** Fast strings, calls and host functions for one QuickJS context. */
export class QuickJSBridge {
  readonly #module: HeapModule;
  readonly #ffi: Ffi;
  readonly #ctx: number;
  readonly #argv: number;
  readonly #internals: ContextInternals;
  /** Lean host functions by their QuickJS host reference. */
  readonly #lean = new Set<unknown>();

  /**
   * @throws Error naming the missing internal when quickjs-emscripten changed shape.
   */
  constructor(context: QuickJSContext) {
    QuickJSBridge.check(context);
    const internals = context as unknown as ContextInternals;
    this.#internals = internals;
    this.#module = internals.module;
    this.#ffi = internals.ffi;
    this.#ctx = internals.ctx.value;
    this.#argv = this.#module._malloc(MAX_ARGS * 4);
    const callbacks = internals.cToHostCallbacks;
    const original = callbacks.callFunction;
    // Every host function of this context goes through here; only the lean
    // ones skip the public path.
    callbacks.callFunction = (ctx, self, argc, argv, fnId) => {
      const fn = internals.getFunction(fnId);
      if (!this.#lean.has(fn)) return original(ctx, self, argc, argv, fnId);
      try {
        const args = new Array<string>(argc);
        for (let i = 0; i < argc; i++) args[i] = this.readString(this.#ffi.QTS_ArgvGetJSValueConstPointer(argv, i));
        const result = (fn as LeanHostFunction)(args);
        return result === undefined ? 0 : this.newString(result);
      } catch {
        // No memory left for the answer (or the arguments): the plugin sees
        // undefined, and an exception must not unwind through QuickJS's frames.
        return 0;
      }
    };
  }

  /**
   * Throws unless the internals this bridge relies on are where it expects
   * them: the test suite calls it, so an upgrade that moves them fails there.
   */
  static check(context: QuickJSContext): void {
    const internals = context as unknown as Partial<ContextInternals>;
    const missing: string[] = [];
    if (typeof internals.module?._malloc !== "function") missing.push("module._malloc");
    if (typeof internals.module?._free !== "function") missing.push("module._free");
    if (!(internals.module?.HEAPU8 instanceof Uint8Array)) missing.push("module.HEAPU8");
    if (typeof internals.ctx?.value !== "number") missing.push("ctx.value");
    if (typeof internals.cToHostCallbacks?.callFunction !== "function") missing.push("cToHostCallbacks.callFunction");
    if (typeof internals.getFunction !== "function") missing.push("getFunction");
    if (typeof internals.memory?.heapValueHandle !== "function") missing.push("memory.heapValueHandle");
    for (
      const name of [
        "QTS_NewString",
        "QTS_GetString",
        "QTS_FreeCString",
        "QTS_FreeValuePointer",
        "QTS_Call",
        "QTS_ResolveException",
        "QTS_ArgvGetJSValueConstPointer",
      ] as const
    ) {
      if (typeof internals.ffi?.[name] !== "function") missing.push(`ffi.${name}`);
    }
    if (missing.length > 0) {
      throw new Error(`Unsupported quickjs-emscripten version: missing internals ${missing.join(", ")}`);
    }
  }

  /**
   * A new QuickJS string holding `text`, encoded once into the heap. Text
   * with a NUL character is cut there (C strings): callers pass JSON, which
   * escapes it, or check with `hasNul` first.
   */
  newString(text: string): ValuePointer {
    const module = this.#module;
    const capacity = text.length * 3 + 1;
    const chars = module._malloc(capacity);
    if (chars === 0) throw new Error("out of memory");
    try {
      // HEAPU8 is read after malloc: growing the memory replaces the buffer.
      const heap = module.HEAPU8;
      const { written } = encoder.encodeInto(text, heap.subarray(chars, chars + capacity - 1));
      heap[chars + written] = 0;
      return this.#ffi.QTS_NewString(this.#ctx, chars);
    } finally {
      module._free(chars);
    }
  }

  /** The text of a QuickJS value (converted as `String(value)` does). */
  readString(value: ValuePointer): string {
    const chars = this.#ffi.QTS_GetString(this.#ctx, value);
    if (chars === 0) throw new Error("out of memory");
    try {
      const heap = this.#module.HEAPU8;
      const end = heap.indexOf(0, chars);
      return decoder.decode(heap.subarray(chars, end));
    } finally {
      this.#ffi.QTS_FreeCString(this.#ctx, chars);
    }
  }

  /** A public-API handle that owns `value` (disposing it frees the value). */
  handle(value: ValuePointer): QuickJSHandle {
    return this.#internals.memory.heapValueHandle(value);
  }

  /** Frees a value this side owns. */
  free(value: ValuePointer): void {
    this.#ffi.QTS_FreeValuePointer(this.#ctx, value);
  }

  /**
   * Calls `fn` with the handles' values followed by `texts` as strings; the
   * texts' values are freed before returning.
   */
  call(
    fn: QuickJSHandle,
    self: QuickJSHandle,
    handles: readonly QuickJSHandle[],
    texts: readonly string[],
  ): BridgeResult {
    const count = handles.length + texts.length;
    if (count > MAX_ARGS) throw new Error(`Cannot pass ${count} arguments: at most ${MAX_ARGS}`);
    const created: ValuePointer[] = [];
    try {
      for (const text of texts) created.push(this.newString(text));
      // A view made after the strings: creating them may have grown the memory.
      const argv = new Int32Array(this.#module.HEAPU8.buffer, this.#argv, count);
      handles.forEach((handle, i) => argv[i] = handle.value as unknown as number);
      created.forEach((value, i) => argv[handles.length + i] = value);
      const result = this.#ffi.QTS_Call(
        this.#ctx,
        fn.value as unknown as number,
        self.value as unknown as number,
        count,
        this.#argv,
      );
      const error = this.#ffi.QTS_ResolveException(this.#ctx, result);
      if (error) {
        this.free(result);
        return { error };
      }
      return { value: result };
    } finally {
      for (const value of created) this.free(value);
    }
  }

  /** Marks a function made with `context.newFunction` as lean: it gets and returns strings directly. */
  makeLean(fn: LeanHostFunction): void {
    this.#lean.add(fn);
  }

  /** Frees the argument buffer (the context's own disposal frees the rest). */
  dispose(): void {
    this.#module._free(this.#argv);
  }
}
