/** Packs built in memory for the pack unit tests. */
import type { PackContents } from "../../../../src/plugins/packs/pack-files.ts";
import { VERSION } from "../../../../src/version.ts";
import { stubLogger } from "../inline-fixture.ts";

const encode = (text: string) => new TextEncoder().encode(text);

/** A pack named `name` with one plugin `p` whose module is `source`, and fixture files. */
export function packOf(
  options: { name?: string; version?: string; tapline?: string; source: string; fixtures: Record<string, string> },
): PackContents {
  const contents: PackContents = new Map();
  contents.set(
    "tapline-pack.yaml",
    encode(
      [
        `name: "${options.name ?? "@test/pack"}"`,
        `version: ${options.version ?? "1.0.0"}`,
        "description: A test pack",
        "license: MIT",
        `tapline: "${options.tapline ?? ">=0.0.1"}"`,
        "plugins:",
        "  - name: p",
        "    entry: p.js",
        "",
      ].join("\n"),
    ),
  );
  contents.set("p.js", encode(options.source));
  for (const [path, text] of Object.entries(options.fixtures)) contents.set(`fixtures/${path}`, encode(text));
  return contents;
}

/** Check options for the running tapline, with a silent logger. */
export function checkOptions() {
  return { taplineVersion: VERSION, logger: stubLogger().logger };
}
