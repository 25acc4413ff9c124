/**
 * Shared pieces for the core and capture unit tests: a Route wired to a real
 * CapturePipeline, MemoryBudget, Metrics and ActivityTracker with in-memory
 * sinks, a logger that keeps its lines, and the record schema validator.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import type { Decompressor } from "../../../src/capture/decompress.ts";
import { MemoryBudget } from "../../../src/capture/memory-budget.ts";
import { CapturePipeline } from "../../../src/capture/pipeline.ts";
import type { CaptureRecord, HttpRecord } from "../../../src/shared/record.ts";
import { ActivityTracker } from "../../../src/core/activity.ts";
import { createLogger, type Logger } from "../../../src/shared/logger.ts";
import { Metrics, type RouteMetrics } from "../../../src/core/metrics.ts";
import { Route } from "../../../src/core/route.ts";
import { decompress } from "../../../src/runtime/shared/decompress.ts";
import type { RecordSink } from "../../../src/sinks/types.ts";
import { MemorySink } from "../sinks/memory-sink.ts";

/** Repository root: the nearest ancestor holding tapline's package.json (works from test/ and dist/test/). */
export const repoRoot: string = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "tapline") return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`Cannot find tapline's package.json above ${start}`);
    dir = parent;
  }
}

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
let validator: Validator | undefined;
let ajv: Ajv2020 | undefined;

/** Asserts that a record, as it would be written (JSON round trip), validates against schemas/record.schema.json. */
export function assertValidRecord(record: unknown): void {
  const schemaPath = join(repoRoot, "schemas/record.schema.json");
  assert.ok(existsSync(schemaPath), `${schemaPath} is missing: records cannot be validated`);
  if (!validator) {
    ajv = new Ajv2020({ strict: true, allErrors: true });
    validator = ajv.compile(JSON.parse(readFileSync(schemaPath, "utf8")) as object) as Validator;
  }
  const written = JSON.parse(JSON.stringify(record)) as unknown;
  assert.ok(
    validator(written),
    `record fails schemas/record.schema.json: ${ajv!.errorsText(validator.errors, { separator: "; " })}\n${
      JSON.stringify(written)
    }`,
  );
}

/** A real logger whose lines (JSON) are kept for assertions. */
export function collectingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger("debug", "json", (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  return { logger, lines };
}

export interface RouteOptions {
  name?: string;
  upstream?: string;
  includePath?: string[];
  excludePath?: string[];
  /** Sinks of the route; defaults to one MemorySink. */
  sinks?: RecordSink[];
  maxBodySize?: number;
  budgetBytes?: number;
  queueSize?: number;
  decompress?: Decompressor;
}

export interface RouteHarness {
  route: Route;
  pipeline: CapturePipeline;
  budget: MemoryBudget;
  metrics: Metrics;
  routeMetrics: RouteMetrics;
  activity: ActivityTracker;
  /** The first sink when it is a MemorySink (the default). */
  sink: MemorySink;
  logLines: Array<Record<string, unknown>>;
  /** Flushes the pipeline and returns the default sink's records, asserting they are all `http` records. */
  flushRecords(): Promise<HttpRecord[]>;
  /** Flushes the pipeline and returns every record of the default sink, of any type. */
  flushAll(): Promise<CaptureRecord[]>;
}

/** A Route with real collaborators, capturing into an in-memory sink by default. */
export function makeRoute(options: RouteOptions = {}): RouteHarness {
  const name = options.name ?? "api";
  const maxBodySize = options.maxBodySize ?? 1024 * 1024;
  const { logger, lines } = collectingLogger();
  const metrics = new Metrics();
  const routeMetrics = metrics.route(name);
  const budget = new MemoryBudget(options.budgetBytes ?? 64 * 1024 * 1024);
  const pipeline = new CapturePipeline({
    queueSize: options.queueSize ?? 100,
    flushInterval: 10,
    recordContext: { maxBodySize, decompress: options.decompress ?? decompress },
    logger,
  });
  const activity = new ActivityTracker();
  const defaultSink = new MemorySink();
  const sinks = options.sinks ?? [defaultSink];
  const route = new Route(
    {
      name,
      upstream: new URL(options.upstream ?? "http://127.0.0.1:9000"),
      includePath: options.includePath ?? [],
      excludePath: options.excludePath ?? [],
    },
    { maxBodySize, budget, pipeline, sinks, metrics: routeMetrics, activity },
  );
  const sink = sinks[0] instanceof MemorySink ? sinks[0] : defaultSink;
  return {
    route,
    pipeline,
    budget,
    metrics,
    routeMetrics,
    activity,
    sink,
    logLines: lines,
    async flushRecords() {
      await pipeline.flush();
      return sink.records.map(asHttp);
    },
    async flushAll() {
      await pipeline.flush();
      return sink.records;
    },
  };
}

/** Narrows a record to an `http` record, failing the test when it is of another type. */
export function asHttp(record: CaptureRecord): HttpRecord {
  if (record.type !== "http") assert.fail(`expected an http record, got ${record.type}: ${JSON.stringify(record)}`);
  return record;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}
