/**
 * Flags and positional arguments of a subcommand (`tapline inspect`, `export`,
 * `replay`, `tail`): `--name value`, `--name=value`, boolean `--name`, and
 * positionals in order. Unknown flags and missing values are usage errors
 * that quote the usage line.
 */
import { UsageError } from "../shared/errors.ts";

/**
 * The kind of each flag a command takes. An `optional` flag takes a value when
 * one follows (`--traffic 20`, `--traffic=20`) and is `true` alone (`--traffic`).
 */
export type FlagSpec = Record<string, "string" | "boolean" | "optional">;

/** Parsed flags (string values, `true` for booleans) and positionals. */
export interface CommandArgs {
  flags: Record<string, string | true>;
  positional: string[];
}

/**
 * Parses `argv` against `spec`; `aliases` maps short flags (`-o`) to long ones.
 * @throws UsageError
 */
export function parseCommandArgs(
  argv: readonly string[],
  spec: FlagSpec,
  usage: string,
  aliases: Record<string, string> = {},
): CommandArgs {
  const flags: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const written = eq === -1 ? arg : arg.slice(0, eq);
    const name = (aliases[written] ?? written).replace(/^--?/, "");
    const kind = spec[name];
    if (kind === undefined) throw new UsageError(`Unknown option ${written}. Usage: ${usage}`);
    if (kind === "boolean") {
      if (eq !== -1) throw new UsageError(`${written} takes no value. Usage: ${usage}`);
      flags[name] = true;
      continue;
    }
    if (kind === "optional" && eq === -1 && (argv[i + 1] === undefined || argv[i + 1]!.startsWith("-"))) {
      flags[name] = true;
      continue;
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === "") throw new UsageError(`${written} needs a value. Usage: ${usage}`);
    flags[name] = value;
  }
  return { flags, positional };
}
