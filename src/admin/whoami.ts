/** `GET /api/whoami`: the scope of the caller's token, so a client can check its token before using it. */
import type { Hono } from "hono";
import { type AdminEnv, requireScope } from "./auth.ts";

/** Mounts the route on the authenticated part of the admin app. */
export function whoamiRoute(api: Hono<AdminEnv>): void {
  api.get("/api/whoami", requireScope("read"), (c) => c.json({ scope: c.get("scope") }));
}
