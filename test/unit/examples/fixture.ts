/** Loads the example plugin scripts of examples/ into real sandboxes. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "../../../src/shared/logger.ts";
import { PluginSandbox } from "../../../src/plugins/sandbox.ts";

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

/** A loaded example with everything it emitted and logged. */
export interface LoadedExample {
  sandbox: PluginSandbox;
  emitted: unknown[];
  logged: string[];
}

/** Loads `examples/plugins/<name>.js` the way the loader does (64 MiB, 1 s). */
export async function loadExample(name: string): Promise<LoadedExample> {
  const file = join(repoRoot(), "examples", "plugins", `${name}.js`);
  const emitted: unknown[] = [];
  const logged: string[] = [];
  const sandbox = await PluginSandbox.load({
    source: readFileSync(file, "utf8"),
    fileName: file,
    memory: 64 * 1024 * 1024,
    loadMs: 1000,
    host: {
      emit: (json) => emitted.push(JSON.parse(json)),
      log: (level, message) => logged.push(`${level}: ${message}`),
    },
  });
  return { sandbox, emitted, logged };
}

export { callOk, setupOk } from "../plugins/bundled-fixture.ts";

/** A logger that keeps what it is given. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, debug: keep("debug"), info: keep("info"), warn: keep("warn"), error: keep("error") };
}
