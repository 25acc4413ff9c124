/**
 * What the admin API asks of installed plugin packs. The CLI implements it
 * (it owns the pack store and knows which plugins run); the API only speaks
 * HTTP.
 */

/** An installed pack as `GET /api/packs` shows it. */
export interface PackView {
  name: string;
  version: string;
  source: string;
  integrity: string;
  signed_by?: string;
  installed_at: string;
  plugins: string[];
  /** Ids of running plugins that use it. */
  used_by: string[];
}

/** A pack refused on upload: why, and the failing fixtures with their diffs. */
export interface PackRefusal {
  status: 404 | 409 | 422;
  code: string;
  message: string;
  fixtures?: { name: string; plugin: string; source: string; diff?: string; error?: string }[];
  location?: Record<string, unknown>;
}

/** The outcome of a pack operation: done, or refused. */
export type PackOutcome<T> = { ok: true; value: T } | { ok: false; refusal: PackRefusal };

/** Installed packs as the admin API uses them. */
export interface PackControl {
  list(): Promise<PackView[]>;
  /** Checks (integrity, signature, fixtures) and installs an uploaded `.tgz`. */
  install(archive: Uint8Array): Promise<PackOutcome<{ pack: PackView; unchanged: boolean; fixtures: number }>>;
  /** Removes `name@version`; refused with 409 while a running plugin uses it. */
  remove(id: string): Promise<PackOutcome<PackView>>;
}
