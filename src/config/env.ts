/**
 * `TAPLINE_*` environment variables: one per global flag
 * (`TAPLINE_MAX_BODY_SIZE=50MB`), `TAPLINE_CONFIG` for the YAML file and
 * `TAPLINE_PROXY` holding one or more `--proxy` specs separated by `;` or
 * newlines, `TAPLINE_ADMIN_TOKEN` holding one admin API token (no flag: a
 * command line is visible to every user of the machine). An empty variable
 * counts as unset.
 */
import { tokenProblem } from "../admin/tokens.ts";
import { ConfigError, UsageError } from "../shared/errors.ts";
import { addProxy, type ConfigLayer, emptyLayer, type Origin, setGlobal } from "./layer.ts";
import { envName, GLOBAL_OPTIONS, parseOptionValue, UNSUPPORTED_FLAGS } from "./options.ts";
import { whyOf } from "./proxy.ts";
import { parseProxySpec } from "./proxy-spec.ts";
import { shown } from "../shared/shown-value.ts";

/** The variables env.ts reads, for `--help` and systemd units. */
export const ENV_CONFIG = "TAPLINE_CONFIG";
export const ENV_PROXY = "TAPLINE_PROXY";
export const ENV_ADMIN_TOKEN = "TAPLINE_ADMIN_TOKEN";

export interface EnvResult {
  layer: ConfigLayer;
  configFile?: string;
  /** The TAPLINE_* variables that were used (for `--print-systemd`), secrets excepted. */
  used: Record<string, string>;
  /** Names of the secret variables that were used: never written into a unit file. */
  withheld: string[];
}

/**
 * Read the `TAPLINE_*` layer from an environment.
 *
 * @throws ConfigError naming the variable (`field` is its name).
 */
export function parseEnv(env: Record<string, string | undefined>): EnvResult {
  const result: EnvResult = { layer: emptyLayer(), used: {}, withheld: [] };
  const get = (name: string): string | undefined => {
    const value = env[name];
    if (value === undefined || value === "") return undefined;
    result.used[name] = value;
    return value;
  };

  for (const [flag, why] of Object.entries(UNSUPPORTED_FLAGS)) {
    const name = envName(flag);
    if (get(name) !== undefined) throw new ConfigError(`${name}: ${why}`, { field: name });
  }
  result.configFile = get(ENV_CONFIG);

  for (const option of GLOBAL_OPTIONS) {
    const name = envName(option.flag);
    const value = get(name);
    if (value === undefined) continue;
    let parsed;
    try {
      parsed = parseOptionValue(option, value.trim());
    } catch (error) {
      throw new ConfigError(`Invalid ${name} ${shown(value)}: ${whyOf(error)}`, { field: name });
    }
    const origin: Origin = { label: name, kind: "config", location: { field: name } };
    setGlobal(result.layer, { key: option.key, value: parsed, origin });
  }

  const token = env[ENV_ADMIN_TOKEN]?.trim();
  if (token !== undefined && token !== "") {
    result.withheld.push(ENV_ADMIN_TOKEN);
    const problem = tokenProblem(token);
    // The message leaves the value out: it is a secret, and this message goes to stderr and journals.
    if (problem !== undefined) {
      throw new ConfigError(`Invalid ${ENV_ADMIN_TOKEN}: the token ${problem}`, { field: ENV_ADMIN_TOKEN });
    }
    result.layer.adminTokens = [{ token, scope: "admin", source: ENV_ADMIN_TOKEN }];
  }

  const specs = get(ENV_PROXY);
  if (specs !== undefined) {
    let index = 0;
    for (const spec of specs.split(/[;\r\n]+/)) {
      if (spec.trim() === "") continue;
      index++;
      const label = `${ENV_PROXY} #${index}`;
      const origin: Origin = { label, kind: "config", location: { field: ENV_PROXY } };
      try {
        const proxy = parseProxySpec(spec.trim(), label);
        addProxy(result.layer, { proxy, origin, fieldOrigin: (key) => ({ ...origin, label: `${label} ${key}` }) });
      } catch (error) {
        if (error instanceof UsageError) throw new ConfigError(error.message, { field: ENV_PROXY });
        throw error;
      }
    }
  }
  return result;
}
