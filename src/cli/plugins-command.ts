/**
 * `tapline plugins list|validate|apply|remove`: the admin API's plugin routes
 * from a shell. Tables for people, `--json` for scripts; a rejected set
 * prints its located problems (`file:line:column: field: message`) and exits
 * 78, like a bad config file at start-up.
 */
import { parseDocument, visit } from "yaml";
import type { Runtime } from "../runtime/types.ts";
import { UsageError } from "../shared/errors.ts";
import { clientToken } from "./client-token.ts";

const USAGE =
  "tapline plugins list|validate FILE.yaml|apply FILE.yaml|remove ID [--admin URL] [--token-file F] [--json]";

const isAbsolute = (path: string) => /^([/\\]|[A-Za-z]:[/\\])/.test(path);

/** Where the admin API answers unless `--admin` says otherwise. */
export const DEFAULT_ADMIN_URL = "http://127.0.0.1:9090";

/** A parsed `tapline plugins` command line. */
export interface PluginsArgs {
  action: "list" | "validate" | "apply" | "remove";
  /** The YAML file (validate, apply) or the plugin id (remove). */
  target?: string;
  admin: string;
  tokenFile?: string;
  json: boolean;
}

/**
 * Parses the arguments after `tapline plugins`.
 *
 * @throws UsageError naming what is missing or unknown.
 */
export function parsePluginsArgs(argv: readonly string[]): PluginsArgs {
  const rest: string[] = [];
  const args: PluginsArgs = { action: "list", admin: DEFAULT_ADMIN_URL, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => {
      const next = inline ?? argv[++i];
      if (next === undefined || next === "") throw new UsageError(`${flag} needs a value. Usage: ${USAGE}`);
      return next;
    };
    if (flag === "--admin") args.admin = value().replace(/\/+$/, "");
    else if (flag === "--token-file") args.tokenFile = value();
    else if (flag === "--json") args.json = true;
    else if (flag!.startsWith("-")) throw new UsageError(`Unknown option ${flag}. Usage: ${USAGE}`);
    else rest.push(arg);
  }
  const [action, target, extra] = rest;
  if (action !== "list" && action !== "validate" && action !== "apply" && action !== "remove") {
    throw new UsageError(`Unknown plugins command ${JSON.stringify(action ?? "")}. Usage: ${USAGE}`);
  }
  args.action = action;
  if (action === "list" ? target !== undefined : target === undefined || extra !== undefined) {
    throw new UsageError(`Wrong arguments for "plugins ${action}". Usage: ${USAGE}`);
  }
  if (target !== undefined) args.target = target;
  return args;
}

/**
 * A plugin file's text with relative plugin paths made absolute against its
 * folder, so they mean the same to the tapline that loads them; everything
 * else, lines included, stays as written.
 */
export function withAbsolutePaths(text: string, file: string, cwd: string): string {
  const folder = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : ".";
  const base = isAbsolute(folder) ? folder : `${cwd}/${folder}`;
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return text;
  let changed = false;
  visit(doc, {
    Pair(_, pair) {
      const key = (pair.key as { value?: unknown } | null)?.value;
      const value = pair.value as { value?: unknown } | null;
      if (key !== "use" || typeof value?.value !== "string") return;
      const use = value.value;
      if (/\.m?js$/.test(use) && !isAbsolute(use)) {
        value.value = `${base}/${use.replace(/^\.\//, "")}`;
        changed = true;
      }
    },
  });
  return changed ? doc.toString() : text;
}

/** Runs `tapline plugins ARGS`; returns the exit code. */
export async function runPluginsCommand(argv: readonly string[], runtime: Runtime): Promise<number> {
  const args = parsePluginsArgs(argv);
  const token = await clientToken(args.tokenFile, runtime);
  const call = async (method: string, path: string, body?: string) => {
    let res: Response;
    try {
      res = await fetch(`${args.admin}/api/plugins${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { "content-type": "application/yaml" }),
        },
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      runtime.writeStderr(`tapline: cannot reach the admin API at ${args.admin}: ${(error as Error).message}\n`);
      return { status: 0, json: {} as Record<string, unknown> };
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? JSON.parse(text) as Record<string, unknown> : {};
    } catch {
      json = { error: { message: text.slice(0, 200) } };
    }
    return { status: res.status, json };
  };

  let result: { status: number; json: Record<string, unknown> };
  if (args.action === "list") result = await call("GET", "");
  else if (args.action === "remove") result = await call("DELETE", `/${encodeURIComponent(args.target!)}`);
  else {
    let text: string;
    try {
      text = await runtime.readTextFile(args.target!);
    } catch {
      throw new UsageError(`Cannot read ${args.target}`);
    }
    const body = withAbsolutePaths(text, args.target!, runtime.cwd());
    result = await call(args.action === "apply" ? "PUT" : "POST", args.action === "apply" ? "" : "/validate", body);
  }
  if (result.status === 0) return 69;
  if (args.json) runtime.writeStdout(JSON.stringify(result.json, null, 2) + "\n");
  if (result.status >= 200 && result.status < 300) {
    if (!args.json) runtime.writeStdout(describeSuccess(args, result.json));
    return 0;
  }
  if (!args.json) runtime.writeStderr(describeFailure(args, result));
  if (result.status === 401 || result.status === 403) return 77;
  if (result.status === 422) return 78;
  return result.status === 404 ? 66 : 69;
}

function describeSuccess(args: PluginsArgs, json: Record<string, unknown>): string {
  if (args.action === "validate") return `${args.target}: valid\n`;
  if (args.action !== "list") {
    const saved = json["persisted"] === false ? " (not saved: it will not survive a restart)" : "";
    return `Plugin set is now generation ${json["generation"]}${saved}\n`;
  }
  const plugins = (json["plugins"] ?? []) as Record<string, unknown>[];
  const rows = [["ID", "PLUGIN", "VERSION", "HOOKS", "FAIL", "ROUTES", "STATE"]];
  for (const p of plugins) {
    rows.push([
      String(p["id"]),
      String(p["name"]),
      String(p["version"]),
      (p["hooks"] as string[]).join(","),
      String(p["fail"]),
      p["routes"] ? (p["routes"] as string[]).join(",") : "all",
      p["disabled"] ? "disabled" : "running",
    ]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const table = rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd());
  return `Generation ${json["generation"]}, ${plugins.length} plugin${plugins.length === 1 ? "" : "s"}\n` +
    (plugins.length > 0 ? table.join("\n") + "\n" : "");
}

function describeFailure(args: PluginsArgs, result: { status: number; json: Record<string, unknown> }): string {
  const error = (result.json["error"] ?? {}) as { message?: string; problems?: Record<string, unknown>[] };
  let out = `tapline: plugins ${args.action} failed (${result.status}): ${error.message ?? "no message"}\n`;
  for (const problem of error.problems ?? []) {
    // The API names the request; the user's file is what they can open.
    const message = String(problem["message"]).replace(/^[^:\n]*\(request\)/, args.target ?? "");
    out += `  ${problem["plugin"] ? `${problem["plugin"]}: ` : ""}${message}\n`;
  }
  return out;
}
