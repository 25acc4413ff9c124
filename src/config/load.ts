/**
 * The entry point of the config layer: argv + environment + optional YAML file
 * → what the CLI should do, with one validated Config.
 */
import { renderHelp } from "./help.ts";
import { parseEnv } from "./env.ts";
import { parseFlags } from "./flags.ts";
import { emptyLayer } from "./layer.ts";
import { checkMerged, mergeLayers } from "./merge.ts";
import type { Config } from "./types.ts";

/** What the command line asks for. */
export type CommandLine =
  | { kind: "run"; config: Config; configFile?: string }
  | { kind: "help"; text: string }
  | { kind: "version" }
  | {
    kind: "print-systemd";
    config: Config;
    configFile?: string;
    /** The flags to repeat in ExecStart, without `--print-systemd`. */
    args: string[];
    /** The TAPLINE_* variables in effect, for `Environment=` lines; secrets are left out. */
    environment: Record<string, string>;
    /** Secret variables in effect (TAPLINE_ADMIN_TOKEN), named but never written into the unit. */
    withheld: string[];
  };

/**
 * Resolve argv (without runtime and script) and the environment into a
 * command. Precedence: defaults < YAML (`--config` or TAPLINE_CONFIG) <
 * TAPLINE_* < flags.
 *
 * @example await resolveCommandLine(process.argv.slice(2), process.env, (p) => readFile(p, "utf8"))
 * @throws UsageError (exit 64) for command-line problems, ConfigError (78) for the rest.
 */
export async function resolveCommandLine(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  readTextFile: (path: string) => Promise<string>,
): Promise<CommandLine> {
  const flags = parseFlags(argv);
  if (flags.help) return { kind: "help", text: renderHelp() };
  if (flags.version) return { kind: "version" };
  const fromEnv = parseEnv(env);
  const configFile = flags.configFile ?? fromEnv.configFile;
  // The YAML parser and schema validator load only when a config file is used.
  const yaml = configFile === undefined
    ? emptyLayer()
    : await (await import("./yaml.ts")).loadYamlConfig(configFile, readTextFile);
  const merged = mergeLayers([yaml, fromEnv.layer, flags.layer]);
  checkMerged(merged);
  const withFile = configFile === undefined ? {} : { configFile };
  if (flags.printSystemd) {
    return {
      kind: "print-systemd",
      config: merged.config,
      ...withFile,
      args: flags.args,
      environment: fromEnv.used,
      withheld: fromEnv.withheld,
    };
  }
  return { kind: "run", config: merged.config, ...withFile };
}
