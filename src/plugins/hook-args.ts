/**
 * The arguments of a hook call as they cross into a sandbox: only what the
 * plugin reads (reads.ts), as JSON, with long texts lifted out of the JSON so
 * QuickJS neither parses nor unescapes them (a 1 KiB body inside a record's
 * JSON costs QuickJS's parser several µs; as a string of its own it is
 * copied once).
 */
import { type LiftedTexts, liftText } from "./sandbox.ts";
import type { Reads } from "./reads.ts";

/** Texts shorter than this stay inside the JSON: lifting has a fixed cost too. */
const LIFT_MIN_CHARS = 256;

/**
 * JSON of a view handed to several hooks (the request to onResponse, the body
 * hooks and every event of a stream) for plugins that read all of it:
 * serialized once, here. Views are not changed once an exchange has passed
 * onRequest.
 */
const viewJson = new WeakMap<object, string>();

/** JSON of a request or response view as `reads` lets the plugin see it. */
export function viewArg(reads: Reads, part: "request" | "response", view: object, shared = false): string {
  if (!reads.all) return JSON.stringify(reads.view(part, view));
  if (!shared) return JSON.stringify(view);
  let json = viewJson.get(view);
  if (json === undefined) viewJson.set(view, json = JSON.stringify(view));
  return json;
}

/** The record fields that can hold long text, by part. */
const TEXT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  request: ["body", "body_decoded"],
  response: ["body", "body_decoded"],
};
const TOP_TEXT_FIELDS = ["data", "payload"] as const;

type Plain = Record<string, unknown>;

/**
 * The `onCapture` arguments for `record`: its JSON with long texts lifted
 * out (to be put back by the sandbox's dispatcher at `0.<path>`).
 */
export function recordArgs(reads: Reads, record: object): { json: string; lifted: LiftedTexts | undefined } {
  const lifted: LiftedTexts = { paths: [], texts: [] };
  const json = `[${JSON.stringify(liftRecord(reads, record, "0", lifted))}]`;
  return { json, lifted: lifted.paths.length > 0 ? lifted : undefined };
}

/** The `onCaptureBatch` arguments: one array of records, their long texts lifted out at `0.<index>.<path>`. */
export function recordsArgs(
  reads: Reads,
  records: readonly object[],
): { json: string; lifted: LiftedTexts | undefined } {
  const lifted: LiftedTexts = { paths: [], texts: [] };
  const views = records.map((record, i) => JSON.stringify(liftRecord(reads, record, `0.${i}`, lifted)));
  return { json: `[[${views.join(",")}]]`, lifted: lifted.paths.length > 0 ? lifted : undefined };
}

/** What the plugin reads of `record`, with its long texts moved to `lifted` (paths under `prefix`). */
function liftRecord(reads: Reads, record: object, prefix: string, lifted: LiftedTexts): Plain {
  const seen = reads.record(record) as Plain;
  let copy: Plain | undefined;
  for (const key of TOP_TEXT_FIELDS) {
    const text = seen[key];
    if (typeof text === "string" && text.length >= LIFT_MIN_CHARS && liftText(lifted, `${prefix}.${key}`, text)) {
      copy ??= { ...seen };
      delete copy[key];
    }
  }
  for (const [part, fields] of Object.entries(TEXT_FIELDS)) {
    const value = seen[part];
    if (typeof value !== "object" || value === null) continue;
    let partCopy: Plain | undefined;
    for (const field of fields) {
      const text = (value as Plain)[field];
      if (
        typeof text === "string" && text.length >= LIFT_MIN_CHARS &&
        liftText(lifted, `${prefix}.${part}.${field}`, text)
      ) {
        partCopy ??= { ...(value as Plain) };
        delete partCopy[field];
      }
    }
    if (partCopy) (copy ??= { ...seen })[part] = partCopy;
  }
  return copy ?? seen;
}

/**
 * The arguments of a body hook: the body lifted first, then the JSON views
 * `rest`; `null` instead of the body for a plugin that does not read it
 * (it works on the body through host.text).
 */
export function bodyArgs(text: string | null, rest: string): { json: string; lifted: LiftedTexts | undefined } {
  if (text === null) return { json: `[null,${rest}]`, lifted: undefined };
  const lifted: LiftedTexts = { paths: [], texts: [] };
  if (liftText(lifted, "@", text)) return { json: `[${rest}]`, lifted };
  return { json: `[${JSON.stringify(text)},${rest}]`, lifted: undefined };
}
