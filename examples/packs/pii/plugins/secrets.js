/**
 * secrets: redaction presets for common secret formats. Each preset is a set
 * of linear-time patterns (`host.patterns.compile`, RE2 syntax: no
 * lookaround, no backreferences) whose matches become `[REDACTED:<preset>]`
 * wherever tapline captures text: header values, query strings, request and
 * response bodies (and their decoded text), SSE event data and WebSocket
 * payloads. It works like the bundled `redaction` plugin, which it
 * complements (that one covers e-mail addresses, cards, JWTs, bearer tokens
 * and more): `setup` builds one `host.record.scrubber`, and
 * `onCaptureBatch` applies it to a whole batch of records on the host
 * (`host.record.scrub`), so no record crosses into the sandbox (`reads: []`).
 * Fails closed: a record it could not scrub is dropped, never written.
 *
 * ```yaml
 * plugins:
 *   - id: secrets
 *     use: pii/secrets@1.0.0
 *     config: { presets: [aws_access_key_id, github_token] } # default: all of them
 * ```
 */

/**
 * The presets, in the order they apply (each one scans what the previous
 * left): the specific formats first, the generic `api_key=` parameter last.
 */
const PRESETS = {
  // AWS access key ids: long-term (AKIA) and temporary (ASIA), 20 characters.
  aws_access_key_id: {
    patterns: ["\\b(?:AKIA|ASIA)[0-9A-Z]{16}\\b"],
    replacement: "[REDACTED:aws_access_key_id]",
  },
  // GitHub tokens: personal (ghp_), OAuth (gho_), user-to-server (ghu_),
  // server-to-server (ghs_), refresh (ghr_), and fine-grained (github_pat_).
  github_token: {
    patterns: ["\\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})\\b"],
    replacement: "[REDACTED:github_token]",
  },
  // Slack tokens: bot (xoxb-), user (xoxp-), app (xoxa-), refresh (xoxr-), legacy (xoxs-).
  slack_token: {
    patterns: ["\\bxox[baprs]-[0-9A-Za-z-]{10,}"],
    replacement: "[REDACTED:slack_token]",
  },
  // PEM private keys: the whole block when its END line is there; else the
  // BEGIN line and the key text after it (a body cut short, or a key whose
  // line breaks are escaped in JSON as \n). The earlier pattern wins where both match.
  private_key: {
    patterns: [
      "-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\\s\\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----",
      "-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[A-Za-z0-9+/=\\s\\\\]*",
    ],
    replacement: "[REDACTED:private_key]",
  },
  // `api_key=...`, `apikey=...`, `api-key=...` (any case) in a query string,
  // a form body or a header: the value goes, the name stays.
  api_key: {
    patterns: [{ source: "\\b(api[_-]?key)=[^&#\\s\"']+", flags: "i" }],
    replacement: "$1=[REDACTED:api_key]",
  },
};

const PRESET_NAMES = Object.keys(PRESETS);

export const manifest = {
  name: "secrets",
  version: "1.0.0",
  description:
    "Redacts AWS access key ids, GitHub and Slack tokens, PEM private keys and api_key= parameters from captured records",
  hooks: ["onCaptureBatch"],
  config_schema: {
    type: "object",
    additionalProperties: false,
    properties: {
      presets: {
        description: `Presets to apply: ${PRESET_NAMES.join(", ")}; default all`,
        type: "array",
        minItems: 1,
        uniqueItems: true,
        items: { enum: PRESET_NAMES },
      },
    },
  },
  fail: "closed",
};

/** The scrubber of this instance (host.record). */
let scrubber = null;

/** Compiles the chosen presets once and builds the scrubber that applies them. */
export function setup(config) {
  const chosen = (config ?? {}).presets ?? PRESET_NAMES;
  const custom = PRESET_NAMES.filter((name) => chosen.includes(name)).map((name) => ({
    patterns: host.patterns.compile(PRESETS[name].patterns),
    replacement: PRESETS[name].replacement,
  }));
  scrubber = host.record.scrubber({ headers: [], custom });
  // The records stay on the host: nothing of them needs to cross, and a whole
  // batch is scrubbed in one call.
  return { hooks: ["onCaptureBatch"], reads: [] };
}

/** Scrubs every record of the batch on the host; what changed is what gets written. */
export function onCaptureBatch() {
  host.record.scrub(scrubber);
}
