/**
 * `/api/plugins`: the running plugin set and its reload, as Caddy's admin API
 * does it: validate, then swap, then save; every write answers with the new
 * generation as its ETag and honours `If-Match`, so two operators cannot
 * overwrite each other's change unknowingly. `GET /` is open to a `read`
 * token too, without the plugins' configs; everything else needs `admin`.
 */
import { type Context, Hono } from "hono";
import { parse } from "yaml";
import { PluginSetError, type PluginSetProblem } from "../plugins/generations.ts";
import { ConfigError } from "../shared/errors.ts";
import type { AdminEnv } from "./auth.ts";
import type { AppliedSet, PluginControl } from "./plugin-control.ts";

/** Largest request body accepted, in bytes: plugin lists are small. */
const MAX_BODY_BYTES = 1024 * 1024;

const NO_STORE = { "Cache-Control": "no-store" };

const etagOf = (generation: number) => `"${generation}"`;

/** An API error body: `{ error: { code, message, problems? } }`. */
function failure(c: Context, status: 400 | 404 | 412 | 413 | 422, error: Record<string, unknown>): Response {
  return c.json({ error }, status, NO_STORE);
}

/** Reads the body as text, or undefined when it is larger than MAX_BODY_BYTES. */
async function bodyText(c: Context): Promise<string | undefined> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) return undefined;
  const text = await c.req.text();
  return new TextEncoder().encode(text).byteLength > MAX_BODY_BYTES ? undefined : text;
}

/** The generation `If-Match` names, `*`, or undefined when the header is absent. */
function ifMatch(c: Context): string | undefined {
  const header = c.req.header("if-match");
  if (header === undefined) return undefined;
  return header.trim().replace(/^W\//, "");
}

/** The problems of a rejected set, or undefined for an error that is not the user's. */
function problemsOf(error: unknown): readonly PluginSetProblem[] | undefined {
  if (error instanceof PluginSetError) return error.problems;
  if (error instanceof ConfigError) return [{ ...error.location, message: error.message }];
  return undefined;
}

/**
 * The plugin routes, to mount under the admin app (behind its token check).
 *
 * @example
 * app.route("/api/plugins", pluginRoutes(control));
 */
export function pluginRoutes(control: PluginControl): Hono<AdminEnv> {
  const api = new Hono<AdminEnv>();

  /** Runs a write once `If-Match` and the body passed; maps a rejected set to 422. */
  const write = async (c: Context, change: (text: string) => Promise<AppliedSet>): Promise<Response> => {
    const wanted = ifMatch(c);
    const current = control.list().generation;
    if (wanted !== undefined && wanted !== "*" && wanted !== etagOf(current)) {
      c.header("ETag", etagOf(current));
      return failure(c, 412, {
        code: "generation_changed",
        message: `The plugin set is at generation ${current}, not ${wanted}: read it again and retry`,
      });
    }
    const text = await bodyText(c);
    if (text === undefined) {
      return failure(c, 413, { code: "body_too_large", message: `Request body over ${MAX_BODY_BYTES} bytes` });
    }
    try {
      const applied = await change(text);
      return c.json(applied, 200, { ...NO_STORE, ETag: etagOf(applied.generation) });
    } catch (error) {
      const problems = problemsOf(error);
      if (problems === undefined) throw error;
      return failure(c, 422, { code: "plugin_set_invalid", message: "The plugin set was rejected", problems });
    }
  };

  /** The running list with one entry replaced, added (`entry`) or removed (undefined). */
  const withEntry = (id: string, entry: Record<string, unknown> | undefined) => {
    const entries = control.entries();
    const at = entries.findIndex((existing) => existing["id"] === id);
    if (at === -1) entries.push(...(entry ? [entry] : []));
    else entries.splice(at, 1, ...(entry ? [entry] : []));
    return { plugins: entries };
  };

  api.get("/", (c) => {
    const set = control.list();
    const shown = c.get("scope") === "admin"
      ? set
      : { ...set, plugins: set.plugins.map(({ config: _config, ...plugin }) => plugin) };
    return c.json(shown, 200, { ...NO_STORE, ETag: etagOf(set.generation) });
  });

  api.get("/types", async (c) => c.json({ types: await control.types() }, 200, NO_STORE));

  api.post("/validate", async (c) => {
    const text = await bodyText(c);
    if (text === undefined) {
      return failure(c, 413, { code: "body_too_large", message: `Request body over ${MAX_BODY_BYTES} bytes` });
    }
    try {
      await control.validate(text);
      return c.json({ valid: true }, 200, NO_STORE);
    } catch (error) {
      const problems = problemsOf(error);
      if (problems === undefined) throw error;
      return failure(c, 422, { code: "plugin_set_invalid", message: "The plugin set was rejected", problems });
    }
  });

  api.put("/", (c) => write(c, (text) => control.apply(text)));

  api.put("/:id", (c) =>
    write(c, (text) => {
      const id = c.req.param("id");
      let entry: unknown;
      try {
        entry = parse(text);
      } catch (error) {
        throw new ConfigError(`Invalid plugin entry: ${(error as Error).message.split("\n")[0]}`, { field: id });
      }
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
        throw new ConfigError("Invalid plugin entry: must be a mapping such as {use, config}", { field: id });
      }
      const named = entry as Record<string, unknown>;
      if (named["id"] !== undefined && named["id"] !== id) {
        throw new ConfigError(`The entry's id "${String(named["id"])}" differs from "${id}" in the path`, {
          field: "id",
        });
      }
      return control.apply(JSON.stringify(withEntry(id, { ...named, id })));
    }));

  api.delete("/:id", async (c) => {
    const id = c.req.param("id");
    if (!control.entries().some((entry) => entry["id"] === id)) {
      return failure(c, 404, { code: "plugin_not_found", message: `No running plugin has the id "${id}"` });
    }
    return await write(c, () => control.apply(JSON.stringify(withEntry(id, undefined))));
  });

  api.delete("/", (c) => write(c, () => control.reset()));

  return api;
}
