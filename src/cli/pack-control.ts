/**
 * Installed packs behind the admin API: the pack store, and the running
 * plugin set to tell which packs are in use (those cannot be removed).
 */
import type { PackControl, PackRefusal, PackView } from "../admin/pack-control.ts";
import type { PluginGenerations } from "../plugins/generations.ts";
import { readArchive } from "../plugins/packs/archive.ts";
import { integrityOf } from "../plugins/packs/integrity.ts";
import { PackError } from "../plugins/packs/pack-check.ts";
import { packId } from "../plugins/packs/pack-manifest.ts";
import type { LockEntry, PackStore } from "../plugins/packs/store.ts";
import { ConfigError } from "../shared/errors.ts";

/** Builds the PackControl the admin API calls. */
export function createPackControl(store: PackStore, generations: PluginGenerations): PackControl {
  /** Ids of running plugins using `entry` (by exact version, or the only version installed). */
  const usersOf = (entry: LockEntry): string[] => {
    const users: string[] = [];
    for (const declaration of generations.current.declarations) {
      const ref = declaration.packRef;
      if (!ref || ref.pack !== entry.name) continue;
      if (ref.version === undefined || ref.version === entry.version) users.push(declaration.id);
    }
    return users;
  };
  const view = (entry: LockEntry): PackView => ({
    name: entry.name,
    version: entry.version,
    source: entry.source,
    integrity: entry.integrity,
    ...(entry.signed_by ? { signed_by: entry.signed_by } : {}),
    installed_at: entry.installed_at,
    plugins: entry.plugins,
    used_by: usersOf(entry),
  });
  return {
    async list() {
      return (await store.list()).map(view);
    },
    async install(archive) {
      try {
        const contents = await readArchive(archive, "the uploaded archive");
        const integrity = await integrityOf(archive);
        const { entry, checked, unchanged } = await store.install(contents, {
          source: "upload",
          integrity,
          label: "upload",
        });
        return { ok: true, value: { pack: view(entry), unchanged, fixtures: checked.fixtures.length } };
      } catch (error) {
        return { ok: false, refusal: refusalOf(error) };
      }
    },
    async remove(id) {
      const at = id.lastIndexOf("@");
      const name = at > 0 ? id.slice(0, at) : id;
      const version = at > 0 ? id.slice(at + 1) : undefined;
      let entry: LockEntry;
      try {
        entry = await store.find({ pack: name, ...(version ? { version } : {}) });
      } catch (error) {
        return { ok: false, refusal: refusalOf(error) };
      }
      const users = usersOf(entry);
      if (users.length > 0) {
        return {
          ok: false,
          refusal: {
            status: 409,
            code: "pack_in_use",
            message: `${packId(entry)} is used by the running plugins ${users.join(", ")}: remove them first`,
          },
        };
      }
      await store.remove(packId(entry));
      return { ok: true, value: view(entry) };
    },
  };
}

function refusalOf(error: unknown): PackRefusal {
  if (error instanceof PackError) {
    const status = error.code === "pack_not_found" ? 404 : error.code === "pack_conflict" ? 409 : 422;
    return {
      status,
      code: error.code,
      message: error.message,
      ...(error.fixtures
        ? {
          fixtures: error.fixtures.filter((r) => !r.passed).map((r) => ({
            name: r.fixture.name,
            plugin: r.fixture.plugin,
            source: r.fixture.source,
            ...(r.diff ? { diff: r.diff } : {}),
            ...(r.error ? { error: r.error } : {}),
          })),
        }
        : {}),
    };
  }
  if (error instanceof ConfigError) {
    return { status: 422, code: error.code, message: error.message, location: { ...error.location } };
  }
  if (error instanceof Error && error.message.startsWith("Cannot read")) {
    return { status: 422, code: "pack_unreadable", message: error.message };
  }
  throw error;
}
