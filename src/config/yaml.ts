/**
 * The YAML config file (`--config`): parsed with positions, checked against
 * schemas/config.schema.json, then turned into a layer. Every error names the
 * file, line, column and field: `app.yaml:7:15: proxies[1].upstream: ...`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import schema from "../../schemas/config.schema.json" with { type: "json" };
import { describeError } from "../shared/describe-error.ts";
import { ConfigError } from "../shared/errors.ts";
import { locatedMessage, parseLocatedYaml } from "../shared/located-yaml.ts";
import { tokenProblem } from "../admin/tokens.ts";
import { addProxy, type ConfigLayer, emptyLayer, type Origin, setGlobal } from "./layer.ts";
import { parseAdminSection } from "./admin.ts";
import { GLOBAL_OPTIONS, isUnsupportedFlag, parseOptionValue, yamlPathOf } from "./options.ts";
import { parsePlugins, resolveAgainst } from "./plugins.ts";
import { parsePublicKey } from "../plugins/packs/signature.ts";
import { buildProxy, type ProxyKey, type RawProxy } from "./proxy.ts";
import { shown } from "../shared/shown-value.ts";

type PathSegment = string | number;

/** Top-level keys later versions add; named so the error says so. */
const FUTURE_KEYS = new Set([
  "rotation",
  "s3",
  "sqlite",
]);

/** Friendlier wording for type errors on keys whose values have a format. */
const TYPE_HINTS: Record<string, string> = {
  flush_interval: 'a duration with a unit, such as "100ms" or "1s"',
  shutdown_timeout: 'a duration with a unit, such as "30s" or "1m"',
  listen_admin: 'a quoted address such as ":9090" or "127.0.0.1:9090"',
  listen_http: 'a quoted address such as ":8080" or "127.0.0.1:8080"',
  listen_https: 'a quoted address such as ":8443" or "127.0.0.1:8443"',
  max_body_size: 'a size such as "100MB" or a number of bytes',
  capture_memory: 'a size such as "256MB" or a number of bytes',
  memory: 'a size such as "64MB" or a number of bytes',
  body: 'a size such as "1MB" or a number of bytes',
};

let validator: ValidateFunction | undefined;

/** Compile the schema once, on first use (only runs with `--config`). */
function validate(data: unknown): ErrorObject[] {
  validator ??= new Ajv({ allErrors: false, strict: true, allowUnionTypes: true, verbose: true }).compile(schema);
  return validator(data) ? [] : [...(validator.errors ?? [])];
}

/**
 * Parse and validate a YAML config text into a layer. `file` is used only in
 * messages and error locations.
 *
 * @throws ConfigError with `{file, line, column, field}`.
 */
export function parseYamlConfig(text: string, file: string): ConfigLayer {
  const yaml = parseLocatedYaml(text, file);
  const originOf = (path: readonly PathSegment[], onKey = false): Origin => {
    const location = yaml.locate(path, onKey);
    return { label: locatedMessage(location, "").replace(/: $/, ""), kind: "config", location };
  };
  const fail = (origin: Origin, message: string): never => {
    throw new ConfigError(`${origin.label}: ${message}`, origin.location ?? { file });
  };

  const data: unknown = yaml.data ?? {};
  if (typeof data !== "object" || Array.isArray(data) || data === null) {
    fail(originOf([]), "the config must be a mapping of keys such as proxies and listen_admin");
  }
  const errors = validate(data);
  if (errors.length > 0) {
    const { path, onKey, message } = describeSchemaError(errors);
    fail(originOf(path, onKey), message);
  }

  const config = data as Record<string, unknown>;
  const layer = emptyLayer();
  for (const option of GLOBAL_OPTIONS) {
    const path = yamlPathOf(option);
    const value = valueAt(config, path);
    if (value === undefined || value === null) continue;
    const origin = originOf(path);
    try {
      setGlobal(layer, {
        key: option.key,
        value: parseOptionValue(option, value as string | number | boolean),
        origin,
      });
    } catch (error) {
      fail(origin, lowerFirst(describeError(error)));
    }
  }

  const proxies = (config.proxies ?? []) as Record<string, unknown>[];
  proxies.forEach((entry, index) => {
    const base: PathSegment[] = ["proxies", index];
    const raw: RawProxy = {
      ...(entry as Omit<RawProxy, "include_path" | "exclude_path">),
      include_path: asList(entry.include_path),
      exclude_path: asList(entry.exclude_path),
    };
    const fieldOrigin = (key: ProxyKey, item?: number): Origin => {
      const isList = item !== undefined && Array.isArray(entry[key]);
      return originOf(isList ? [...base, key, item] : [...base, key]);
    };
    const proxy = buildProxy(raw, ({ key, what, why, index }) => {
      const origin = key ? fieldOrigin(key, index) : originOf(base);
      return fail(origin, `${lowerFirst(what)}: ${why}`);
    });
    addProxy(layer, { proxy, origin: originOf(base), fieldOrigin: (key) => fieldOrigin(key) });
  });

  if (Array.isArray(config.plugins)) {
    layer.plugins = parsePlugins(config.plugins as Record<string, unknown>[], { file, originOf, fail });
  }
  if (Array.isArray(config.trusted_keys)) {
    layer.trustedKeys = (config.trusted_keys as string[]).map((key, i) => {
      try {
        parsePublicKey(key);
      } catch (error) {
        fail(originOf(["trusted_keys", i]), lowerFirst((error as Error).message));
      }
      return key.trim();
    });
  }
  const grpc = config.grpc as { descriptors?: string[] } | null | undefined;
  // Like plugin files, descriptor sets ship next to the config that names them.
  if (grpc?.descriptors !== undefined) {
    layer.grpcDescriptors = grpc.descriptors.map((path) => resolveAgainst(file, path));
  }
  if (config.admin !== undefined && config.admin !== null) {
    parseAdminSection(config.admin as Record<string, unknown>, layer, { file, originOf, fail });
  }
  return layer;
}

/**
 * Read and parse a config file with the given reader.
 *
 * @throws ConfigError when the file cannot be read or is invalid.
 */
export async function loadYamlConfig(
  file: string,
  readTextFile: (path: string) => Promise<string>,
): Promise<ConfigLayer> {
  let text: string;
  try {
    text = await readTextFile(file);
  } catch (error) {
    throw new ConfigError(`Cannot read config file ${shown(file)}: ${describeError(error)}`, { file });
  }
  return parseYamlConfig(text, file);
}

/** Pick the most useful ajv error and say it in plain words. */
function describeSchemaError(errors: ErrorObject[]): { path: PathSegment[]; onKey: boolean; message: string } {
  // With allErrors off, an anyOf failure lists each branch's error and then its own.
  const error = errors.find((e) => e.keyword === "anyOf") ?? errors[0]!;
  const path: PathSegment[] = error.instancePath
    .split("/")
    .slice(1)
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const params = error.params as Record<string, unknown>;
  if (path[0] === "admin" && path[path.length - 1] === "token" && error.keyword !== "type") {
    // Said without the value: it is a secret.
    return { path, onKey: false, message: `the token ${tokenProblem(String(error.data)) ?? "is invalid"}` };
  }
  switch (error.keyword) {
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const valid = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      const future = path.length === 0 && (FUTURE_KEYS.has(key) || isUnsupportedFlag(key.replaceAll("_", "-")));
      return {
        path: [...path, key],
        onKey: true,
        message: future
          ? `"${key}" is not supported in this version of tapline yet`
          : `unknown key "${key}"; valid keys are ${valid.join(", ")}`,
      };
    }
    case "required":
      return { path, onKey: false, message: `missing required key "${String(params.missingProperty)}"` };
    case "type": {
      const hint = TYPE_HINTS[String(path[path.length - 1])];
      return { path, onKey: false, message: `must be ${hint ?? typeWords(params.type)}` };
    }
    case "enum":
      return {
        path,
        onKey: false,
        message: `must be one of ${(params.allowedValues as unknown[]).join(", ")}, not ${shown(error.data)}`,
      };
    case "anyOf": {
      const branches = (error.schema as { type?: unknown; items?: unknown }[]).map((b) =>
        b.type === "array" ? "a list of strings" : typeWords(b.type)
      );
      return { path, onKey: false, message: `must be ${branches.join(" or ")}` };
    }
    case "pattern":
      if (path[0] === "plugins" && path.length === 3 && path[2] === "id") {
        return {
          path,
          onKey: false,
          message: `invalid plugin id ${
            shown(error.data)
          }: must start with a letter and contain only letters, digits, "_" and "-"`,
        };
      }
      if (path[path.length - 1] === "name") {
        return {
          path,
          onKey: false,
          message: `invalid proxy name ${
            shown(error.data)
          }: must start with a letter and contain only letters, digits, "_" and "-"`,
        };
      }
      if (String(params.pattern) === "^/") return { path, onKey: false, message: `must start with "/"` };
      return { path, onKey: false, message: `must match ${String(params.pattern)}` };
    case "minLength":
      return { path, onKey: false, message: "must not be empty" };
    case "minimum":
      return { path, onKey: false, message: `must be at least ${String(params.limit)}` };
    case "exclusiveMinimum":
      return { path, onKey: false, message: `must be greater than ${String(params.limit)}` };
    case "minItems":
      return { path, onKey: false, message: "must not be empty" };
    default:
      return { path, onKey: false, message: error.message ?? "is invalid" };
  }
}

function typeWords(type: unknown): string {
  const words: Record<string, string> = {
    string: "a string",
    integer: "a whole number",
    number: "a number",
    boolean: "true or false",
    object: "a mapping",
    array: "a list",
    null: "empty",
  };
  const list = Array.isArray(type) ? type : String(type).split(",");
  return list.map((t) => words[String(t)] ?? String(t)).join(" or ");
}

/** The value at a path of nested mappings, or undefined. */
function valueAt(data: Record<string, unknown>, path: readonly string[]): unknown {
  let value: unknown = data;
  for (const key of path) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function asList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
