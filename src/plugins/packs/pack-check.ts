/**
 * What makes a pack acceptable, wherever it comes from (a folder, an archive,
 * an npm tarball, an upload): its manifest parses, every plugin's entry is in
 * it, it supports this tapline, its signature holds and comes from a trusted
 * key (when keys are configured), and every fixture passes in the real
 * sandbox. `tapline pack test`, `pack install`, `POST /api/packs` and every
 * load run these same checks.
 */
import { TaplineError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import { type Fixture, type FixtureResult, readFixtures, runFixture } from "./fixtures.ts";
import { PACK_MANIFEST, packId, type PackManifest, parsePackManifest, supportsTapline } from "./pack-manifest.ts";
import type { PackContents } from "./pack-files.ts";
import { checkSignature, parsePublicKey } from "./signature.ts";

/** A pack that failed a check; `fixtures` holds the results when fixtures failed. */
export class PackError extends TaplineError {
  readonly fixtures: FixtureResult[] | undefined;
  constructor(message: string, code = "pack_invalid", fixtures?: FixtureResult[]) {
    super(code, message, { exitCode: 78 });
    this.name = "PackError";
    this.fixtures = fixtures;
  }
}

/** How strict a check is, and who hears about its progress. */
export interface PackCheckOptions {
  /** The running tapline's version, checked against the pack's `tapline` range. */
  taplineVersion: string;
  /** Public keys (`ed25519:...`) one of which must have signed the pack; undefined: signatures optional. */
  trustedKeys?: readonly string[];
  logger: Logger;
  /** Called after each fixture, for progress. */
  onFixture?: (result: FixtureResult, done: number, total: number) => void;
  /** Only the fixtures of this plugin (a load checks the plugin it loads). */
  plugin?: string;
}

/** A pack that passed its checks. */
export interface CheckedPack {
  manifest: PackManifest;
  contents: PackContents;
  fixtures: FixtureResult[];
  /** The trusted key that signed it, when it is signed. */
  signedBy?: string;
}

/**
 * The pack inside `contents`: at the root (`tapline-pack.yaml`), or where an
 * npm package's `package.json` points (`"tapline-pack": "pack/tapline-pack.yaml"`),
 * re-rooted there.
 *
 * @throws PackError when neither is found.
 */
export function packRoot(contents: PackContents, label: string): PackContents {
  if (contents.has(PACK_MANIFEST)) return contents;
  const pkg = contents.get("package.json");
  if (pkg !== undefined) {
    let pointer: unknown;
    try {
      pointer = (JSON.parse(new TextDecoder().decode(pkg)) as Record<string, unknown>)["tapline-pack"];
    } catch {
      throw new PackError(`${label}: package.json is not valid JSON`);
    }
    if (typeof pointer === "string" && contents.has(pointer.replace(/^\.\//, ""))) {
      const manifest = pointer.replace(/^\.\//, "");
      if (!manifest.endsWith(PACK_MANIFEST)) {
        throw new PackError(`${label}: package.json "tapline-pack" must point at a ${PACK_MANIFEST}`);
      }
      const prefix = manifest.slice(0, -PACK_MANIFEST.length);
      const rooted: PackContents = new Map();
      for (const [path, bytes] of contents) if (path.startsWith(prefix)) rooted.set(path.slice(prefix.length), bytes);
      return rooted;
    }
    if (pointer !== undefined) {
      throw new PackError(`${label}: package.json "tapline-pack" names no file of the package`);
    }
  }
  throw new PackError(
    `${label} is not a pack: no ${PACK_MANIFEST} at its root, and no package.json with "tapline-pack" pointing at one`,
  );
}

/**
 * Runs every check on a pack. Fixture failures come back in the error's
 * `fixtures`, all of them run (so a report shows every failure at once).
 *
 * @throws PackError (or ConfigError for a manifest or fixture file that does not parse, with its line).
 */
export async function checkPack(given: PackContents, label: string, options: PackCheckOptions): Promise<CheckedPack> {
  const contents = packRoot(given, label);
  const manifest = parsePackManifest(
    new TextDecoder().decode(contents.get(PACK_MANIFEST)),
    `${label}/${PACK_MANIFEST}`,
  );
  for (const plugin of manifest.plugins) {
    if (!contents.has(plugin.entry)) {
      throw new PackError(`${packId(manifest)}: plugin ${plugin.name}'s entry ${plugin.entry} is not in the pack`);
    }
  }
  if (!supportsTapline(manifest, options.taplineVersion)) {
    throw new PackError(
      `${packId(manifest)} supports tapline ${manifest.tapline}; this is tapline ${options.taplineVersion}`,
      "pack_unsupported",
    );
  }
  const signature = await checkSignature(contents);
  if (signature.signed && !signature.valid) {
    throw new PackError(`${packId(manifest)}: bad signature: ${signature.reason}`, "pack_signature");
  }
  let signedBy: string | undefined;
  if (options.trustedKeys !== undefined) {
    if (!signature.signed) {
      throw new PackError(
        `${packId(manifest)} is not signed, and only packs signed by a trusted key are accepted`,
        "pack_signature",
      );
    }
    const trusted = options.trustedKeys.map((key) => parsePublicKey(key).join());
    if (!trusted.includes(parsePublicKey(signature.key).join())) {
      throw new PackError(
        `${packId(manifest)} is signed by ${signature.key}, which is not a trusted key`,
        "pack_signature",
      );
    }
  }
  if (signature.signed && signature.valid) signedBy = signature.key;
  const fixtures = readFixtures(manifest, contents).filter((f) => !options.plugin || f.plugin === options.plugin);
  if (fixtures.length === 0 && !options.plugin) {
    throw new PackError(
      `${packId(manifest)} has no fixtures (${manifest.fixtures.join(", ")}): a pack proves what it does`,
    );
  }
  const results = await runFixtures(manifest, contents, fixtures, options);
  const failed = results.filter((result) => !result.passed);
  if (failed.length > 0) {
    throw new PackError(
      `${packId(manifest)}: ${failed.length} of ${results.length} fixtures failed:\n${
        failed.map(describeFailure).join("\n")
      }`,
      "pack_fixtures",
      results,
    );
  }
  return { manifest, contents, fixtures: results, ...(signedBy ? { signedBy } : {}) };
}

async function runFixtures(
  manifest: PackManifest,
  contents: PackContents,
  fixtures: Fixture[],
  options: PackCheckOptions,
): Promise<FixtureResult[]> {
  const results: FixtureResult[] = [];
  for (const fixture of fixtures) {
    const result = await runFixture(manifest, contents, fixture, { logger: options.logger });
    results.push(result);
    options.onFixture?.(result, results.length, fixtures.length);
  }
  return results;
}

/** `✗ name (file#n)` and its diff or error, indented. */
export function describeFailure(result: FixtureResult): string {
  const head = `  ✗ ${result.fixture.name} (${result.fixture.source}, plugin ${result.fixture.plugin})`;
  const body = result.error ?? (result.diff ? `(- expected, + actual)\n${result.diff}` : "");
  return `${head}\n${body.split("\n").map((line) => `      ${line}`).join("\n")}`;
}
