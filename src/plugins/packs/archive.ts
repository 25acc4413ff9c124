/**
 * Pack archives: `.tgz` files in the layout npm uses (everything under
 * `package/`), so a pack archive is also an npm tarball. Built
 * reproducibly (sorted names, fixed times and modes: the same folder gives
 * the same bytes and integrity), read with bounds (size after decompression,
 * file count, paths that stay inside the pack, plain files only).
 */
import { createTar, parseTar } from "nanotar";
import { PACK_LIMITS, type PackContents, unsafePackPath } from "./pack-files.ts";

/** The folder npm tarballs keep their files in. */
const NPM_ROOT = "package/";
/** 2000-01-01 (ms): archives carry a fixed time so that builds are reproducible. */
const FIXED_MTIME = 946_684_800_000;

/** A `.tgz` of `contents` under `package/`, the same bytes for the same contents. */
export async function buildArchive(contents: PackContents): Promise<Uint8Array> {
  const names = [...contents.keys()].sort();
  // The tar header holds 100 bytes of name (nanotar writes no longer-name extensions).
  const long = names.find((name) => new TextEncoder().encode(NPM_ROOT + name).byteLength > 100);
  if (long) throw new Error(`Cannot archive ${long}: the path with ${NPM_ROOT} is longer than 100 bytes`);
  const tar = createTar(
    names.map((name) => ({
      name: `${NPM_ROOT}${name}`,
      data: contents.get(name)!,
      attrs: { mode: "644", mtime: FIXED_MTIME, uid: 0, gid: 0, user: "", group: "" },
    })),
  );
  return await gzip(tar);
}

/**
 * The files of a `.tgz` (a pack archive or an npm tarball), relative to its
 * single top folder when it has one (`package/`).
 *
 * @throws Error naming the entry that is refused, or the limit passed.
 */
export async function readArchive(bytes: Uint8Array, label: string): Promise<PackContents> {
  const tar = await gunzip(bytes, PACK_LIMITS.bytes * 2, label);
  const entries = parseTar(tar);
  const files = entries.filter((entry) => entry.type !== "directory");
  if (files.length > PACK_LIMITS.files) throw new Error(`Cannot read ${label}: more than ${PACK_LIMITS.files} files`);
  const names = files.map((entry) => entry.name.replace(/^\.\//, ""));
  const top = names.length > 0 && names.every((n) => n.startsWith(names[0]!.split("/")[0] + "/"))
    ? names[0]!.split("/")[0] + "/"
    : "";
  const contents: PackContents = new Map();
  files.forEach((entry, i) => {
    const name = names[i]!.slice(top.length);
    if (entry.type !== "file") {
      throw new Error(`Cannot read ${label}: "${entry.name}" is a ${entry.type}; packs hold plain files only`);
    }
    const problem = unsafePackPath(name);
    if (problem) throw new Error(`Cannot read ${label}: the path "${entry.name}" is ${problem}`);
    if (contents.has(name)) throw new Error(`Cannot read ${label}: "${entry.name}" appears twice`);
    contents.set(name, entry.data ?? new Uint8Array(0));
  });
  return contents;
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Decompresses, refusing more than `limit` bytes of output (a small archive may expand without bound). */
async function gunzip(bytes: Uint8Array, limit: number, label: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("gzip"));
    for await (const chunk of stream) {
      size += chunk.byteLength;
      if (size > limit) throw new Error(`more than ${limit >> 20} MiB once decompressed`);
      chunks.push(chunk);
    }
  } catch (error) {
    throw new Error(`Cannot read ${label}: ${(error as Error).message} (is it a .tgz?)`);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
