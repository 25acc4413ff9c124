/**
 * Where `tapline pack install SOURCE` takes a pack from: a folder, a `.tgz`
 * file, an `https://` URL (with `--integrity`), or an npm package spec
 * resolved by the npm CLI (`npm pack`), so teams publish packs to whatever
 * registry they already use. Every archive's integrity is checked before it
 * is opened when one is known.
 */
import { readArchive } from "../plugins/packs/archive.ts";
import { integrityOf, matchesIntegrity } from "../plugins/packs/integrity.ts";
import { PackError } from "../plugins/packs/pack-check.ts";
import { type PackContents, readPackFolder } from "../plugins/packs/pack-files.ts";
import type { Runtime } from "../runtime/types.ts";
import { UsageError } from "../shared/errors.ts";

/** A pack read from its source, not yet checked. */
export interface FetchedPack {
  contents: PackContents;
  /** The source as the lock records it. */
  source: string;
  /** Integrity of the archive, when the source is one. */
  integrity?: string;
  /** How messages name it. */
  label: string;
}

/** Progress of a download, for the progress line. */
export type DownloadProgress = (received: number, total: number | undefined) => void;

/** Largest archive downloaded. */
const MAX_DOWNLOAD = 64 * 1024 * 1024;

/**
 * Reads the pack `source` names.
 *
 * @throws UsageError for a URL without `--integrity` or over plain http to another host; PackError otherwise.
 */
export async function fetchPack(
  source: string,
  options: { runtime: Runtime; integrity?: string; onDownload?: DownloadProgress },
): Promise<FetchedPack> {
  const { runtime, integrity } = options;
  if (/^https?:\/\//i.test(source)) return await fromUrl(source, options);
  const kind = await runtime.packFiles.kind(source);
  if (kind === "directory") {
    const contents = await readPackFolder(runtime.packFiles, source);
    return { contents, source: absolute(source, runtime), label: source };
  }
  if (kind === "file") {
    const bytes = await runtime.packFiles.readFile(source);
    await checkIntegrity(bytes, integrity, source);
    return {
      contents: await readArchive(bytes, source),
      source: absolute(source, runtime),
      integrity: integrity ?? await integrityOf(bytes),
      label: source,
    };
  }
  if (/^[./]/.test(source) || /\.tgz$/.test(source)) throw new PackError(`Cannot find ${source}`, "pack_not_found");
  return await fromNpm(source, options);
}

async function fromUrl(
  url: string,
  { integrity, onDownload }: { integrity?: string; onDownload?: DownloadProgress },
): Promise<FetchedPack> {
  const parsed = new URL(url);
  if (integrity === undefined) {
    throw new UsageError(`Installing from a URL needs --integrity sha256-... (the value tapline pack build printed)`);
  }
  if (parsed.protocol === "http:" && !["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname)) {
    throw new UsageError(`Refusing plain http to ${parsed.hostname}: use https (http is allowed to this machine only)`);
  }
  let response: Response;
  try {
    response = await fetch(url, { redirect: "follow" });
  } catch (error) {
    throw new PackError(`Cannot download ${url}: ${(error as Error).message}`, "pack_download");
  }
  if (!response.ok || !response.body) {
    throw new PackError(`Cannot download ${url}: HTTP ${response.status}`, "pack_download");
  }
  const total = Number(response.headers.get("content-length")) || undefined;
  const chunks: Uint8Array[] = [];
  let received = 0;
  for await (const chunk of response.body) {
    received += chunk.byteLength;
    if (received > MAX_DOWNLOAD) throw new PackError(`Cannot download ${url}: larger than 64 MiB`, "pack_download");
    chunks.push(chunk);
    onDownload?.(received, total);
  }
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  await checkIntegrity(bytes, integrity, url);
  return { contents: await readArchive(bytes, url), source: url, integrity, label: url };
}

/** `npm pack SPEC` into a temporary folder, then the tarball it wrote (checked against npm's integrity). */
async function fromNpm(
  spec: string,
  { runtime, integrity }: { runtime: Runtime; integrity?: string },
): Promise<FetchedPack> {
  const dir = await runtime.makeTempDir("tapline-pack-");
  try {
    // From the user's folder: relative specs (file:./pack) and a project .npmrc (scoped registries, logins) apply.
    const result = await runtime.runCommand("npm", ["pack", spec, "--json", "--pack-destination", dir], {
      cwd: runtime.cwd(),
      timeoutMs: 120_000,
    });
    if (result.code === null) {
      throw new PackError(
        `Cannot resolve the npm package ${spec}: the npm CLI is not available (${result.stderr.trim()}); ` +
          "install from a folder, a .tgz or a URL instead",
        "pack_npm",
      );
    }
    if (result.code !== 0) {
      const reason = result.stderr.split("\n").find((line) => /ERR!/.test(line)) ?? result.stderr.trim();
      throw new PackError(`npm could not fetch ${spec}: ${reason.slice(0, 400)}`, "pack_npm");
    }
    let packed: { filename: string; integrity?: string; name: string; version: string };
    try {
      packed = (JSON.parse(result.stdout) as typeof packed[])[0]!;
    } catch {
      throw new PackError(`npm pack ${spec} printed no JSON`, "pack_npm");
    }
    const file = `${dir}/${packed.filename.replace(/^@/, "").replace(/\//g, "-")}`;
    const bytes = await runtime.packFiles.readFile(
      (await runtime.packFiles.kind(file)) === "file" ? file : `${dir}/${packed.filename}`,
    );
    if (packed.integrity) await checkIntegrity(bytes, packed.integrity, `${spec} (npm's integrity)`);
    await checkIntegrity(bytes, integrity, spec);
    return {
      contents: await readArchive(bytes, spec),
      source: `npm:${packed.name}@${packed.version}`,
      integrity: integrity ?? await integrityOf(bytes),
      label: `${packed.name}@${packed.version}`,
    };
  } finally {
    await runtime.packFiles.removeTree(dir);
  }
}

async function checkIntegrity(bytes: Uint8Array, expected: string | undefined, label: string): Promise<void> {
  if (expected === undefined) return;
  let matches: boolean;
  try {
    matches = await matchesIntegrity(bytes, expected);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!matches) {
    throw new PackError(
      `${label} does not match its integrity: expected ${expected}, got ${await integrityOf(bytes)}`,
      "pack_integrity",
    );
  }
}

function absolute(path: string, runtime: Runtime): string {
  return path.startsWith("/") ? path : `${runtime.cwd()}/${path.replace(/^\.\//, "")}`;
}
