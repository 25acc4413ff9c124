/**
 * `tapline pack init NAME`: a pack with one plugin and fixtures that pass, to
 * start from. The plugin tags slow exchanges; it shows the manifest fields,
 * `reads:` and a patch return, and its fixtures show both outcomes.
 */
import { VERSION } from "../version.ts";

/** The files of a new pack named `name`, by path. */
export function scaffoldPack(name: string): Map<string, string> {
  const [major, minor] = VERSION.split(".");
  const range = major === "0" ? `>=0.${minor}.0 <1` : `^${major}.0.0`;
  const files = new Map<string, string>();
  files.set(
    "tapline-pack.yaml",
    `# A tapline plugin pack: test it with \`tapline pack test\`, build it with \`tapline pack build\`.
name: "${name}"
version: 0.1.0
description: Tags slow exchanges
license: MIT
# The tapline versions this pack works with (a semver range).
tapline: "${range}"
plugins:
  - name: tag-slow
    entry: plugins/tag-slow.js
    description: Tags http records whose duration passes a threshold
    # Only these fields cross into the sandbox; onCapture returns a patch.
    reads: [duration_ms]
    config_schema:
      type: object
      additionalProperties: false
      properties:
        threshold_ms: { type: number, minimum: 0, description: "Default 500" }
fixtures: [fixtures]
`,
  );
  files.set(
    "plugins/tag-slow.js",
    `/**
 * Tags http records slower than \`threshold_ms\` with \`tags.slow = "true"\`.
 * Its manifest fields are in tapline-pack.yaml.
 */
let threshold = 500;

export function setup(config) {
  threshold = config?.threshold_ms ?? 500;
}

export function onCapture(record) {
  if (record.type !== "http" || record.duration_ms < threshold) return undefined;
  // The plugin read part of the record (reads: [duration_ms]): what it returns is merged onto the whole.
  return { type: record.type, id: record.id, tags: { slow: "true" } };
}
`,
  );
  files.set(
    "fixtures/tag-slow.yaml",
    `# Each fixture runs the plugin in the sandbox and compares what the hook made with \`expect\`.
# Records are completed with fixed ids and times on both sides: write only what matters.
fixtures:
  - name: tags an exchange slower than the threshold
    config: { threshold_ms: 100 }
    hook: onCapture
    input:
      record: { duration_ms: 250 }
    expect:
      record: { duration_ms: 250, tags: { slow: "true" } }
  - name: leaves a fast exchange alone
    config: { threshold_ms: 100 }
    hook: onCapture
    input:
      record: { duration_ms: 20 }
    expect:
      record: { duration_ms: 20 }
`,
  );
  files.set(
    "README.md",
    `# ${name}

A [tapline](https://github.com/tapline/tapline) plugin pack.

\`\`\`sh
tapline pack test            # run the fixtures in the sandbox
tapline pack build           # ${name.replace(/^@/, "").replace("/", "-")}-0.1.0.tgz and its integrity
tapline pack install .       # into the data dir, recorded in tapline.lock
\`\`\`

Use it in tapline.yaml:

\`\`\`yaml
plugins:
  - id: slow
    use: "${name}/tag-slow@0.1.0"
    config: { threshold_ms: 500 }
\`\`\`
`,
  );
  return files;
}
