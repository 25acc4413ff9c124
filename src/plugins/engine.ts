/**
 * A QuickJS WebAssembly module with its own memory, capped. One per plugin:
 * QuickJS's own memory limit does not hold against many small allocations in
 * this build, while a `WebAssembly.Memory` with a maximum cannot grow past it.
 * The singlefile variant embeds the WebAssembly bytes, so no file is read:
 * it works under Deno without permissions and inside compiled binaries.
 */
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSWASMModule } from "quickjs-emscripten-core";
import variant from "@jitl/quickjs-singlefile-mjs-release-sync";

const PAGE = 64 * 1024;
/** The module's initial memory (its INITIAL_MEMORY): a smaller cap cannot load it. */
export const ENGINE_BASE_MEMORY = 16 * 1024 * 1024;

/** A loaded module and the memory it runs in. */
export interface Engine {
  module: QuickJSWASMModule;
  memory: WebAssembly.Memory;
  /** The cap in bytes. */
  limit: number;
}

let compiling: Promise<WebAssembly.Module | undefined> | undefined;

/** Whether a compiled WebAssembly module is QuickJS (and not, say, sql.js compiled at the same moment). */
const isQuickJS = (module: WebAssembly.Module) =>
  WebAssembly.Module.exports(module).some((entry) => entry.name.startsWith("QTS_"));

/**
 * The compiled QuickJS WebAssembly module, shared by every engine of the
 * process: engines differ only in their memory, and compiling is most of a
 * sandbox's load (measured on Bun: ~250 ms per sandbox and slow first calls,
 * against under 25 ms from a compiled module), which a plugin reload pays for
 * every plugin. The singlefile variant keeps its bytes to itself, so the
 * module is taken from one load as it is compiled; when that fails, every
 * engine compiles its own, as before.
 */
function compiledModule(): Promise<WebAssembly.Module | undefined> {
  return compiling ??= (async () => {
    const instantiate = WebAssembly.instantiate;
    let captured: WebAssembly.Module | undefined;
    const capturing = async function (this: unknown, ...args: unknown[]) {
      const result: unknown = await Reflect.apply(instantiate, WebAssembly, args);
      const module = (result as { module?: unknown } | null)?.module;
      if (module instanceof WebAssembly.Module && isQuickJS(module)) captured ??= module;
      return result;
    };
    WebAssembly.instantiate = capturing as typeof WebAssembly.instantiate;
    try {
      const pages = ENGINE_BASE_MEMORY / PAGE;
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages + 16 });
      await newQuickJSWASMModuleFromVariant(newVariant(variant, { wasmMemory: memory }));
    } catch {
      // Every engine then compiles its own module, as it would without sharing.
    } finally {
      WebAssembly.instantiate = instantiate;
    }
    return captured;
  })();
}

/**
 * Loads a fresh QuickJS module whose memory can never exceed `limit` bytes
 * (rounded down to whole 64 KiB pages, at least ENGINE_BASE_MEMORY + 1 MiB).
 */
export async function loadEngine(limit: number): Promise<Engine> {
  const pages = Math.max(Math.floor(limit / PAGE), ENGINE_BASE_MEMORY / PAGE + 16);
  const memory = new WebAssembly.Memory({ initial: ENGINE_BASE_MEMORY / PAGE, maximum: pages });
  const wasmModule = await compiledModule();
  const options = wasmModule ? { wasmMemory: memory, wasmModule } : { wasmMemory: memory };
  const module = await newQuickJSWASMModuleFromVariant(newVariant(variant, options));
  return { module, memory, limit: pages * PAGE };
}
