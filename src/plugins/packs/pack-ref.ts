/**
 * How a plugin of an installed pack is named in `use:`:
 * `<pack>/<plugin>[@<version>]`, the pack name possibly scoped
 * (`@acme/pii/redact@1.2.0`, `pii/redact`).
 */

/** A parsed `use:` naming a pack plugin. */
export interface PackRef {
  /** The pack name, `@acme/pii` or `pii`. */
  pack: string;
  plugin: string;
  /** Exact version; undefined when exactly one installed version is meant. */
  version?: string;
}

const REF = /^((?:@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*)\/([a-z][a-z0-9_-]*)(?:@([0-9A-Za-z.+-]+))?$/;

/**
 * The pack reference in `use`, or undefined when `use` is not one (a bundled
 * name or a file path).
 *
 * @example
 * parsePackRef("@acme/pii/redact@1.2.0"); // { pack: "@acme/pii", plugin: "redact", version: "1.2.0" }
 * parsePackRef("./my-plugin.js");          // undefined
 */
export function parsePackRef(use: string): PackRef | undefined {
  if (/\.m?js$/.test(use) || use.startsWith(".") || use.startsWith("/")) return undefined;
  const match = REF.exec(use);
  if (!match) return undefined;
  return { pack: match[1]!, plugin: match[2]!, ...(match[3] ? { version: match[3] } : {}) };
}

/** `pack/plugin@version` as written in `use:`. */
export function formatPackRef(ref: PackRef): string {
  return `${ref.pack}/${ref.plugin}${ref.version ? `@${ref.version}` : ""}`;
}
