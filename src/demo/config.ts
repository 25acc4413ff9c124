/**
 * The configuration `tapline demo` runs: the quickstart's proxy and its three
 * bundled plugins in front of the demo upstream, capturing to JSONL and
 * SQLite in the demo's data directory. Written as YAML so it goes through
 * the same loader, schema and checks as a user's file.
 */
import { INTERNAL_BASE_URL } from "./upstream.ts";

/** What the demo's configuration depends on. */
export interface DemoConfigInput {
  /** `host:port` of the proxy listener. */
  listen: string;
  /** URL of the running demo upstream. */
  upstream: string;
  /** `host:port` of the admin listener. */
  listenAdmin: string;
  /** Directory the capture files go to (made beforehand). */
  dataDir: string;
}

/** The demo's YAML (JSON strings are valid YAML scalars, so every value is written with JSON.stringify). */
export function demoConfigYaml(input: DemoConfigInput): string {
  const q = JSON.stringify;
  const dir = input.dataDir.endsWith("/") ? input.dataDir : `${input.dataDir}/`;
  return `# tapline demo (generated)
listen_admin: ${q(input.listenAdmin)}
max_body_size: 1MB
flush_interval: 200ms
sqlite_flush: 1s
log_format: text
log_level: warn

proxies:
  - name: app
    listen_http: ${q(input.listen)}
    upstream: ${q(input.upstream)}
    log_jsonl: ${q(dir)}
    log_sqlite: ${q(dir)}

plugins:
  - id: only-api
    use: path-filter
    config:
      exclude: ["\\\\.(css|js|map|png|ico)$", "^/healthz?$"]
  - id: public-urls
    use: text-replace
    config:
      rules:
        - match: ${q(INTERNAL_BASE_URL)}
          replace: "https://api.example.com"
          in: [response.body, sse, ws]
  - id: scrub
    use: redaction
    config:
      headers: [authorization, proxy-authorization, cookie, set-cookie, x-api-key]
      patterns: [email, bearer, jwt, credit_card]
      custom:
        - name: api_key
          pattern: "sk-[A-Za-z0-9_-]{20,}"
`;
}
