/**
 * Reading tapline's JSONL output: parse, poll until records appear, and
 * validate against schemas/record.schema.json with ajv in strict mode.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import type {
  CaptureRecord,
  GrpcMessageRecord,
  HttpRecord,
  SseEventRecord,
  WebSocketFrameRecord,
} from "../../../src/shared/record.ts";
import { eventually } from "./fixture.ts";
import { repoRoot } from "./runtimes.ts";

export type { HttpRecord };

const schemaPath = join(repoRoot, "schemas/record.schema.json");
let validator: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null } | undefined;
let ajv: Ajv2020 | undefined;

function compiled(): ((data: unknown) => boolean) & { errors?: ErrorObject[] | null } {
  if (!validator) {
    ajv = new Ajv2020({ strict: true, allErrors: true });
    validator = ajv.compile(JSON.parse(readFileSync(schemaPath, "utf8")) as object);
  }
  return validator;
}

/** Schema errors of one record as text, or undefined when it is valid. */
export function schemaErrors(record: unknown): string | undefined {
  const validate = compiled();
  if (validate(record)) return undefined;
  return ajv!.errorsText(validate.errors, { separator: "; " });
}

/**
 * Every line of a JSONL file parsed (a missing file is empty). Throws naming
 * the line that is not JSON. With `final` (the writer has exited), a last line
 * without its newline is an error; otherwise it is a write in progress and is
 * left for the next poll.
 */
export function readRecords(file: string, final = false): HttpRecord[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, "utf8");
  if (final && text !== "" && !text.endsWith("\n")) {
    throw new Error(`${file}: last line has no newline after the writer exited`);
  }
  const out: HttpRecord[] = [];
  const complete = text.split("\n").slice(0, -1);
  for (const [i, line] of complete.entries()) {
    if (line.trim() === "") throw new Error(`${file}:${i + 1}: empty line in JSONL`);
    try {
      out.push(JSON.parse(line) as HttpRecord);
    } catch (err) {
      throw new Error(`${file}:${i + 1}: not JSON (${(err as Error).message}): ${line.slice(0, 200)}`);
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `file` until at least `count` records match `match` (default 5 s);
 * then return the matching ones. Fails naming what was there instead.
 */
export async function waitForRecords(
  file: string,
  match: (r: HttpRecord) => boolean,
  count = 1,
  timeoutMs = 5_000,
): Promise<HttpRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = readRecords(file).filter(match);
    if (found.length >= count) return found;
    if (Date.now() > deadline) {
      const all = readRecords(file);
      throw new Error(
        `Expected ${count} matching record(s) in ${file} within ${timeoutMs} ms, found ${found.length} (file has ${all.length}; last urls: ${
          JSON.stringify(all.slice(-10).map((r) => `${r.route_name} ${r.request?.method} ${r.request?.url}`))
        })`,
      );
    }
    await sleep(50);
  }
}

/** A line read as whatever record type it is (readRecords types lines as http records). */
export const asCapture = (r: HttpRecord): CaptureRecord => r as unknown as CaptureRecord;

/**
 * The `websocket_frame` or `sse_event` records of one connection, in file
 * order, once at least `count` of them are there.
 */
export async function connectionRecords<T extends WebSocketFrameRecord | SseEventRecord>(
  file: string,
  type: T["type"],
  connectionId: string,
  count: number,
  timeoutMs = 5_000,
): Promise<T[]> {
  const found = await waitForRecords(
    file,
    (r) => {
      const c = asCapture(r);
      return c.type === type && c.connection_id === connectionId;
    },
    count,
    timeoutMs,
  );
  return found.map(asCapture) as T[];
}

/** The one record whose request URL contains `marker`. */
export async function recordFor(file: string, marker: string, timeoutMs = 5_000): Promise<HttpRecord> {
  const found = await waitForRecords(
    file,
    (r) => typeof r.request?.url === "string" && r.request.url.includes(marker),
    1,
    timeoutMs,
  );
  if (found.length !== 1) throw new Error(`Expected one record for "${marker}" in ${file}, found ${found.length}`);
  return found[0]!;
}

/** Decode a captured body to bytes (base64 or UTF-8 text). */
export function bodyBytes(part: { body?: string; body_base64?: boolean } | undefined): Buffer {
  if (!part || part.body === undefined) return Buffer.alloc(0);
  return part.body_base64 ? Buffer.from(part.body, "base64") : Buffer.from(part.body, "utf8");
}

/** Values of a header in a record's header map, matched case-insensitively (all matching names merged). */
export function headerValues(headers: Record<string, string[]> | undefined, name: string): string[] {
  if (!headers) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name.toLowerCase()) out.push(...v);
  return out;
}

/** Fail listing every record of `files` that does not validate against the schema. */
export function assertAllValid(files: string[]): number {
  const problems: string[] = [];
  let total = 0;
  for (const file of files) {
    for (const [i, record] of readRecords(file).entries()) {
      total++;
      const errors = schemaErrors(record);
      if (errors) problems.push(`${file}:${i + 1} (${record.request?.method} ${record.request?.url}): ${errors}`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `${problems.length} of ${total} record(s) fail schemas/record.schema.json:\n${problems.slice(0, 20).join("\n")}`,
    );
  }
  return total;
}

/**
 * A gRPC call's http record, found by a marker in request header `header`,
 * and its `messages` grpc_message records in seq order, once all are written.
 */
export async function grpcCallRecords(
  file: string,
  header: string,
  m: string,
  messages: number,
): Promise<[HttpRecord, GrpcMessageRecord[]]> {
  return await eventually(
    () => {
      const all = readRecords(file).map(asCapture);
      const call = all.find((r): r is HttpRecord =>
        r.type === "http" &&
        Object.entries(r.request.headers).some(([name, values]) => name.toLowerCase() === header && values[0] === m)
      );
      const found = all.filter((r): r is GrpcMessageRecord =>
        r.type === "grpc_message" && r.connection_id === call?.id
      );
      return [call, found.sort((a, b) => a.seq - b.seq)] as [HttpRecord | undefined, GrpcMessageRecord[]];
    },
    ([call, found]) => call !== undefined && found.length === messages,
    10_000,
  ) as [HttpRecord, GrpcMessageRecord[]];
}
