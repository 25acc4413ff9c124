/**
 * The YAML `admin:` mapping, already checked against
 * schemas/config.schema.json: `tokens` and `allowed_hosts` become layer
 * fields here (`token_file` is an ordinary option, see options.ts). Checks
 * what the schema cannot, at the line that is wrong, without ever repeating
 * a token in a message.
 */
import { allowedHostProblem } from "../admin/host-check.ts";
import { type AdminToken, type Scope, tokenProblem } from "../admin/tokens.ts";
import type { ConfigLayer } from "./layer.ts";
import type { YamlTools } from "./plugins.ts";

/** `admin:` as the schema lets it through. */
interface RawAdmin {
  tokens?: { token: string; scope: Scope }[];
  token_file?: string;
  viewer?: boolean;
  allowed_hosts?: string[];
}

/**
 * Set `adminTokens` and `adminAllowedHosts` of `layer` from the `admin:` mapping.
 *
 * @throws ConfigError naming file, line, column and field.
 */
export function parseAdminSection(value: Record<string, unknown>, layer: ConfigLayer, yaml: YamlTools): void {
  const admin = value as RawAdmin;
  if (admin.tokens !== undefined) {
    const tokens: AdminToken[] = [];
    admin.tokens.forEach(({ token, scope }, index) => {
      const origin = yaml.originOf(["admin", "tokens", index, "token"]);
      const problem = tokenProblem(token);
      if (problem !== undefined) yaml.fail(origin, `the token ${problem}`);
      const twin = tokens.findIndex((other) => other.token === token);
      if (twin >= 0) yaml.fail(origin, `the same token as admin.tokens[${twin}]`);
      tokens.push({ token, scope, source: origin.label });
    });
    layer.adminTokens = tokens;
  }
  if (admin.allowed_hosts !== undefined) {
    admin.allowed_hosts.forEach((host, index) => {
      const problem = allowedHostProblem(host);
      if (problem !== undefined) yaml.fail(yaml.originOf(["admin", "allowed_hosts", index]), problem);
    });
    layer.adminAllowedHosts = [...admin.allowed_hosts];
  }
}
