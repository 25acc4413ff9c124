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

/**
 * Loads a fresh QuickJS module whose memory can never exceed `limit` bytes
 * (rounded down to whole 64 KiB pages, at least ENGINE_BASE_MEMORY + 1 MiB).
 */
export async function loadEngine(limit: number): Promise<Engine> {
  const pages = Math.max(Math.floor(limit / PAGE), ENGINE_BASE_MEMORY / PAGE + 16);
  const memory = new WebAssembly.Memory({ initial: ENGINE_BASE_MEMORY / PAGE, maximum: pages });
  const module = await newQuickJSWASMModuleFromVariant(newVariant(variant, { wasmMemory: memory }));
  return { module, memory, limit: pages * PAGE };
}
