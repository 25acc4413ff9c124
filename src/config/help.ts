/**
 * The `--help` text. Built from the option table so every flag and default
 * shown is the one the parser uses.
 */
import { ENV_ADMIN_TOKEN, ENV_CONFIG, ENV_PROXY } from "./env.ts";
import { envName, GLOBAL_OPTIONS } from "./options.ts";

const PROXY_KEY_HELP: readonly [string, string][] = [
  ["name", 'Required. Route name: a letter, then letters, digits, "_" or "-"'],
  ["upstream", "Required. http:// or https:// URL to forward to (its path is a prefix)"],
  ["listen_http", "HTTP listener, e.g. :8080 or 127.0.0.1:8080"],
  ["listen_https", "HTTPS listener; needs --cert and --key, or --auto-cert"],
  ["log_jsonl", 'JSONL capture file; ending in "/" means directory mode: <dir>/<name>.jsonl'],
  ["log_sqlite", 'SQLite capture file (same records); ending in "/" means <dir>/<name>.db'],
  ["include_path", "Capture only paths matching this regex (repeatable)"],
  ["exclude_path", "Never capture paths matching this regex (repeatable)"],
  ["http2", "on (default) or off: also accept HTTP/2 (h2c, ALPN h2) on the listeners"],
  ["upstream_proto", "auto (default: ALPN for https), h1 or h2 (prior knowledge on http): protocol to the upstream"],
];

/** Render the full `--help` text. */
export function renderHelp(): string {
  const rows: [string, string][] = [
    ["--proxy SPEC", "A proxy instance, repeatable (keys below)"],
    ["--config FILE", `YAML config file (schemas/config.schema.json); also ${ENV_CONFIG}`],
    ...GLOBAL_OPTIONS.map((o): [string, string] => [
      `--${o.flag}${o.metavar ? ` ${o.metavar}` : ""}`,
      `${o.description}${o.defaultText !== undefined ? ` (default ${o.defaultText})` : ""}`,
    ]),
    [
      "--grpc-descriptors FILE",
      "FileDescriptorSet (buf build -o, protoc --descriptor_set_out): gRPC messages also as JSON; repeatable",
    ],
    ["--print-systemd", "Print a systemd unit that runs tapline with these flags, then exit"],
    ["-h, --help", "Show this help"],
    ["--version", "Print the version"],
  ];
  return `tapline: a transparent HTTP tap proxy. Forwards every request to an upstream
and captures each exchange as a JSONL record. Drop-in for http-tap-proxy.

Usage:
  tapline --proxy "name=NAME,listen_http=ADDR,upstream=URL[,KEY=VALUE...]" [--proxy ...] [flags]
  tapline --config tapline.yaml [flags]
  tapline demo [--traffic [RATE]] [--duration D] [--json] [--listen ADDR] [--upstream-listen ADDR]
               [--listen-admin ADDR] [--data-dir DIR]
                                               A demo app, tapline in front of it and live traffic
  tapline reindex [--force] DB FILE.jsonl...   Rebuild a SQLite capture database from JSONL
  tapline plugins list|validate F|apply F|remove ID [--admin URL] [--token-file F] [--json]
                                               Read or change the running plugin set (admin API)
  tapline pack init|test|build|install|list|remove|keygen ...
                                               Share plugins as packs (see tapline pack --help)
  tapline tail [--filter EXPR] [--min-latency 500ms] [--last N] [--json] [--admin URL] [--token-file F]
                                               Live captured records from a running tapline
  tapline inspect [--filter EXPR] [--json] FILE...
                                               Summarise capture files (JSONL or SQLite)
  tapline export --format har|jsonl [--filter EXPR] [-o OUT] FILE...
                                               Export captured exchanges as HAR 1.2 or JSONL
  tapline replay ID [--speed N] [--no-delay] FILE...
                                               Print a captured event stream with its pacing
  deno run -A src/cli/main.ts [flags]     (Deno, from source)
  bun src/cli/main.ts [flags]             (Bun, from source)

Flags:
${table(rows)}

Flags may be written -flag or --flag, with the value as the next argument or
after "=". Booleans: --auto-cert, --insecure-skip-verify=false.
Sizes: 512, 64KB, 1.5MB, 10MiB, 1GB (1024-based). Durations: 100ms, 30s, 5m, 1h30m.
S3 credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_SESSION_TOKEN; the region from --s3-region, AWS_REGION or AWS_DEFAULT_REGION.
Admin API: every admin path but health and metrics needs "Authorization: Bearer
TOKEN". Tokens come from --admin-token-file, ${ENV_ADMIN_TOKEN} (one admin token;
there is no flag, so it never shows in ps) or YAML admin.tokens; without any,
tapline writes an admin token to <data dir>/admin_token (mode 0600) and reuses it.

--proxy keys (comma-separated key=value; at least one of listen_http, listen_https):
${table(PROXY_KEY_HELP)}

Precedence (lowest to highest):
  built-in defaults < YAML file (--config) < environment < flags
  Every global flag has a variable: --max-body-size is ${envName("max-body-size")}, --log-level is
  ${envName("log-level")}, and so on. ${ENV_PROXY} holds one or more --proxy specs separated
  by ";" or newlines. A proxy from a later source replaces one with the same name.

Examples:
  # One proxy, captures to a file
  tapline --proxy "name=api,listen_http=:8080,upstream=http://localhost:3000,log_jsonl=./api.jsonl"

  # Several proxies, directory mode (./logs/api.jsonl, ./logs/auth.jsonl), admin port
  tapline --listen-admin :9090 \\
    --proxy "name=api,listen_http=:8080,upstream=http://localhost:3000,log_jsonl=./logs/" \\
    --proxy "name=auth,listen_http=:8081,upstream=https://auth.example.com,log_jsonl=./logs/,exclude_path=^/health"

  # HTTPS with a generated self-signed certificate
  tapline --auto-cert --proxy "name=api,listen_https=:8443,upstream=http://localhost:3000,log_jsonl=./logs/"

  # YAML config, with one setting overridden by a flag
  tapline --config tapline.yaml --log-level debug

  # Install as a systemd service
  tapline --config /etc/tapline/tapline.yaml --print-systemd > /etc/systemd/system/tapline.service
`;
}

function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`).join("\n");
}
