/**
 * A YAML document that remembers where each value sits, so a check on the
 * parsed data can say `tapline-pack.yaml:7:5: plugins[0].entry: ...`.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { ConfigError, type ConfigLocation } from "./errors.ts";

/** A key or an index into parsed YAML. */
export type YamlPath = readonly (string | number)[];

/** Parsed YAML and the location of any path in it. */
export interface LocatedYaml {
  readonly file: string;
  readonly data: unknown;
  /** Where the value (or, with `onKey`, the key) at `path` sits: the deepest part of it that exists. */
  locate(path: YamlPath, onKey?: boolean): ConfigLocation;
  /** A ConfigError `file:line:column: field: message` for the value at `path`. */
  error(path: YamlPath, message: string, code?: string): ConfigError;
}

/** `plugins[0].entry` for `["plugins", 0, "entry"]`. */
export function formatYamlPath(path: YamlPath): string {
  return path.map((s, i) => {
    if (typeof s === "number") return `[${s}]`;
    // Keys that are not plain names (empty, spaces, punctuation) are quoted, and cut short when long.
    if (!/^[A-Za-z_][\w-]{0,63}$/.test(s)) return `[${JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s)}]`;
    return i === 0 ? s : `.${s}`;
  }).join("");
}

/** `file:line:column: field: message`, from a location. */
export function locatedMessage(location: ConfigLocation, message: string): string {
  const where = location.file && location.line ? `${location.file}:${location.line}:${location.column ?? 1}: ` : "";
  return `${where}${location.field ? `${location.field}: ` : ""}${message}`;
}

/**
 * The document as plain data. Building it can still fail after a clean
 * parse (an alias whose anchor comes later or never, too many aliases):
 * that is the file's mistake, reported at the alias, never an internal error.
 */
function toData(
  doc: ReturnType<typeof parseDocument>,
  text: string,
  at: (offset: number | undefined, path: YamlPath) => ConfigLocation,
): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const alias = /: ([^\s:]+)$/.exec(message)?.[1];
    const offset = alias === undefined ? 0 : Math.max(text.indexOf(`*${alias}`), 0);
    const location = at(offset, []);
    throw new ConfigError(locatedMessage(location, `invalid YAML: ${message.split("\n")[0]!.trim()}`), location);
  }
}

/**
 * Parses `text` (named `file` in messages), keeping positions.
 *
 * @throws ConfigError naming the line and column of a syntax error.
 * @example
 * const yaml = parseLocatedYaml("name: x\nversion: 1\n", "tapline-pack.yaml");
 * throw yaml.error(["version"], "must be a string"); // tapline-pack.yaml:2:10: version: must be a string
 */
export function parseLocatedYaml(text: string, file: string): LocatedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined, path: YamlPath): ConfigLocation => {
    const pos = lines.linePos(offset ?? 0);
    const field = formatYamlPath(path);
    return { file, line: pos.line, column: pos.col, ...(field ? { field } : {}) };
  };
  const syntax = doc.errors[0];
  if (syntax) {
    const location = at(syntax.pos[0], []);
    throw new ConfigError(locatedMessage(location, `invalid YAML: ${syntax.message.split("\n")[0]!.trim()}`), location);
  }
  const locate = (path: YamlPath, onKey = false): ConfigLocation => {
    let node: unknown = doc.contents;
    let offset = rangeStart(node);
    for (const segment of path) {
      if (isMap(node)) {
        // toJS turns a key with no value (`: x`) into "", and numbers into strings: compare as text.
        const pair = node.items.find((p) => String((isScalar(p.key) ? p.key.value : p.key) ?? "") === String(segment));
        if (!pair) break;
        const last = segment === path[path.length - 1];
        offset = rangeStart(onKey && last ? pair.key : pair.value ?? pair.key) ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === "number") {
        node = node.items[segment];
        offset = rangeStart(node) ?? offset;
      } else {
        break;
      }
    }
    return at(offset, path);
  };
  return {
    file,
    data: toData(doc, text, at),
    locate,
    error: (path, message, code) => {
      const location = locate(path);
      return new ConfigError(locatedMessage(location, message), location, code);
    },
  };
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}
