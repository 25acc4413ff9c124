/**
 * Command-line flags, parsed the way Go's `flag` package does so that
 * http-tap-proxy command lines work unchanged: `-flag` or `--flag`,
 * `--flag value` or `--flag=value`, booleans as `--flag` or `--flag=false`.
 */
import { UsageError } from "../shared/errors.ts";
import { addProxy, type ConfigLayer, emptyLayer, type Origin, setGlobal } from "./layer.ts";
import {
  GLOBAL_OPTIONS,
  type GlobalOption,
  isUnsupportedFlag,
  parseBool,
  parseOptionValue,
  UNSUPPORTED_FLAGS,
} from "./options.ts";
import { whyOf } from "./proxy.ts";
import { parseProxySpec } from "./proxy-spec.ts";
import { shown } from "../shared/shown-value.ts";

/** What the command line asked for. */
export interface FlagResult {
  layer: ConfigLayer;
  /** `--config FILE`. */
  configFile?: string;
  help: boolean;
  version: boolean;
  printSystemd: boolean;
  /** The arguments minus `--print-systemd`, to repeat in a unit's ExecStart. */
  args: string[];
}

const OPTION_BY_FLAG = new Map<string, GlobalOption>(GLOBAL_OPTIONS.map((o) => [o.flag, o]));

/**
 * Parse argv (without the runtime and script). Parsing stops at `--help` or
 * `--version`, as Go's does, so anything after them is not checked.
 *
 * @example parseFlags(["--proxy", "name=api,listen_http=:8080,upstream=http://localhost:3000"])
 * @throws UsageError naming the flag.
 */
export function parseFlags(argv: readonly string[]): FlagResult {
  const result: FlagResult = { layer: emptyLayer(), help: false, version: false, printSystemd: false, args: [] };
  let proxyCount = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const start = i;
    if (arg === "--") {
      if (i + 1 < argv.length) throw unexpected(argv[i + 1]!);
      break;
    }
    const match = /^--?([^-=][^=]*)(?:=([\s\S]*))?$/.exec(arg);
    if (!match) throw unexpected(arg);
    const name = match[1]!;
    const inline = match[2];
    const flag = `--${name}`;
    const option = OPTION_BY_FLAG.get(name);
    const isBool = option?.kind === "bool" || name === "print-systemd" || name === "help" || name === "h" ||
      name === "version";
    if (!isBool && !option && name !== "proxy" && name !== "config" && name !== "grpc-descriptors") {
      if (isUnsupportedFlag(name)) throw new UsageError(UNSUPPORTED_FLAGS[name]!);
      throw new UsageError(`Unknown flag ${shown(flag).slice(1, -1)} (see --help for the list of flags)`);
    }
    let value: string;
    if (isBool) {
      value = inline ?? "true";
    } else if (inline !== undefined) {
      value = inline;
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`Flag ${flag} needs a value (see --help)`);
      value = argv[++i]!;
    }
    const origin: Origin = { label: flag, kind: "usage" };
    if (name === "help" || name === "h") {
      if (boolValue(flag, value)) return { ...result, help: true };
    } else if (name === "version") {
      if (boolValue(flag, value)) return { ...result, version: true };
    } else if (name === "print-systemd") {
      result.printSystemd = boolValue(flag, value);
      continue; // not repeated in the unit's ExecStart
    } else if (name === "proxy") {
      proxyCount++;
      const label = `--proxy #${proxyCount}`;
      const proxy = parseProxySpec(value, label);
      const proxyOrigin: Origin = { label, kind: "usage" };
      addProxy(result.layer, {
        proxy,
        origin: proxyOrigin,
        fieldOrigin: (key) => ({ label: `${label} ${key}`, kind: "usage" }),
      });
    } else if (name === "grpc-descriptors") {
      if (value === "") throw new UsageError("Flag --grpc-descriptors needs a file path");
      (result.layer.grpcDescriptors ??= []).push(value);
    } else if (name === "config") {
      if (value === "") throw new UsageError("Flag --config needs a file path");
      result.configFile = value;
    } else {
      let parsed;
      try {
        parsed = parseOptionValue(option!, value);
      } catch (error) {
        throw new UsageError(`Invalid ${flag} ${shown(value)}: ${whyOf(error)}`);
      }
      setGlobal(result.layer, { key: option!.key, value: parsed, origin });
    }
    result.args.push(...argv.slice(start, i + 1));
  }
  return result;
}

function boolValue(flag: string, text: string): boolean {
  try {
    return parseBool(text);
  } catch (error) {
    throw new UsageError(`Invalid ${flag} ${shown(text)}: ${whyOf(error)}`);
  }
}

function unexpected(arg: string): UsageError {
  return new UsageError(`Unexpected argument ${shown(arg)}: tapline takes only flags (see --help)`);
}
