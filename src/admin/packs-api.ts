/**
 * `/api/packs`: installed plugin packs. `POST` uploads a `.tgz` (the same
 * checks as `tapline pack install`: integrity of its files, signature,
 * fixtures in the sandbox), `DELETE /api/packs/<name>@<version>` removes one
 * unless a running plugin uses it (409).
 */
import { type Context, Hono } from "hono";
import type { PackControl, PackRefusal } from "./pack-control.ts";

/** Largest upload accepted: packs are scripts and fixtures. */
const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

const NO_STORE = { "Cache-Control": "no-store" };

function refused(c: Context, refusal: PackRefusal): Response {
  const { status, ...error } = refusal;
  return c.json({ error }, status, NO_STORE);
}

/**
 * The pack routes, to mount under the admin app (behind its token check).
 *
 * @example
 * app.route("/api/packs", packRoutes(control));
 */
export function packRoutes(control: PackControl): Hono {
  const api = new Hono();

  api.get("/", async (c) => c.json({ packs: await control.list() }, 200, NO_STORE));

  api.post("/", async (c) => {
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > MAX_UPLOAD_BYTES) {
      return c.json({ error: { code: "body_too_large", message: "Pack archives over 64 MiB are refused" } }, 413);
    }
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength > MAX_UPLOAD_BYTES) {
      return c.json({ error: { code: "body_too_large", message: "Pack archives over 64 MiB are refused" } }, 413);
    }
    if (bytes.byteLength === 0) {
      return c.json({ error: { code: "body_missing", message: "Send the pack's .tgz as the request body" } }, 400);
    }
    const outcome = await control.install(bytes);
    if (!outcome.ok) return refused(c, outcome.refusal);
    return c.json(outcome.value, outcome.value.unchanged ? 200 : 201, NO_STORE);
  });

  // Scoped names hold a slash: everything after /api/packs/ is the id.
  api.delete("/*", async (c) => {
    const id = decodeURIComponent(c.req.path.replace(/^.*?\/api\/packs\//, ""));
    const outcome = await control.remove(id);
    if (!outcome.ok) return refused(c, outcome.refusal);
    return c.json({ removed: outcome.value }, 200, NO_STORE);
  });

  return api;
}
