/**
 * Calls to the admin API with the session's bearer token. Errors keep the
 * API's code and message (and a filter's column, a plugin set's problems),
 * so the page can show them where they belong.
 */
import type { PluginSetProblem } from "../../src/plugins/generations.ts";
import { loadToken } from "./token.ts";

/** A located problem of a rejected plugin set, as the API returns it. */
export type Problem = PluginSetProblem;

/** A failed API call. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly column?: number,
    readonly problems?: Problem[],
  ) {
    super(message);
  }
}

let onUnauthorized: () => void = () => {};

/** Called when the API refuses the token (401), so the page can ask for another. */
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

/** A response from the API, or throws ApiError for any status outside 2xx. */
export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${loadToken() ?? ""}`);
  const response = await fetch(path, { ...init, headers, cache: "no-store", credentials: "omit" });
  if (response.ok) return response;
  let body: { error?: { code?: string; message?: string; column?: number; problems?: Problem[] } } = {};
  try {
    body = await response.json();
  } catch {
    // Not JSON: the status says enough.
  }
  const error = body.error ?? {};
  if (response.status === 401) onUnauthorized();
  throw new ApiError(
    response.status,
    error.code ?? "http_error",
    error.message ?? `${response.status} ${response.statusText}`,
    error.column,
    error.problems,
  );
}

/** The JSON answer of a GET (or another method given in `init`). */
export async function getJson<T>(path: string, init?: RequestInit): Promise<T> {
  return await (await request(path, init)).json() as T;
}

/** `?name=value&...` for the parameters that have a value. */
export function query(parameters: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}
