/**
 * Reading captures over the admin port (scope `read`): the trace list with
 * one filter language and cursors, a trace's detail, an event stream's
 * replay, exports as HAR or JSONL, and a live tail as Server-Sent Events.
 * Every answer is `Cache-Control: no-store`; captured values go out as JSON
 * or as event-stream data, never as HTML.
 */
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { compileFilter, FilterError, type RecordFilter } from "../traces/filter/filter.ts";
import { type ExportFormat, exportText } from "../traces/export.ts";
import { replayEvents } from "../traces/replay.ts";
import { TAIL_RING_RECORDS, type TailBatch, type TailHub } from "../traces/tail.ts";
import { traceDetail } from "../traces/trace-detail.ts";
import { listTraces } from "../traces/trace-list.ts";
import { CursorError, type SourceBounds } from "../traces/trace-source.ts";
import type { TraceStore } from "../traces/trace-store.ts";
import { recordJson } from "../sinks/record-json.ts";

/** What the trace routes read. */
export interface TraceAccess {
  store: TraceStore;
  tail: TailHub;
  /** Largest export sent, in bytes. */
  exportMaxBytes: number;
  version: string;
  /** Ends the open replay streams; shutdown calls each (tail streams end through `tail.closeAll`). */
  closers: Set<() => void>;
}

const NO_STORE = { "Cache-Control": "no-store" };
const EVENT_STREAM = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-store",
  "X-Accel-Buffering": "no",
};
/** Comment lines that keep idle tail connections open through proxies. */
const KEEPALIVE_MS = 15_000;
/** Longest route name or id accepted in a query. */
const MAX_NAME = 256;

/** A client error: status, stable code, message (and the filter column for filter errors). */
class BadRequest extends Error {
  constructor(readonly status: ContentfulStatusCode, readonly code: string, message: string, readonly column?: number) {
    super(message);
  }
}

function fail(c: Context, error: unknown): Response {
  if (error instanceof FilterError) {
    return c.json({ error: { code: error.code, message: error.message, column: error.column } }, 400, NO_STORE);
  }
  if (error instanceof CursorError) {
    return c.json({ error: { code: "cursor_invalid", message: error.message } }, 400, NO_STORE);
  }
  if (error instanceof BadRequest) {
    return c.json({ error: { code: error.code, message: error.message } }, error.status, NO_STORE);
  }
  throw error;
}

function filterOf(c: Context): RecordFilter {
  return compileFilter(c.req.query("q") ?? "");
}

/** An ISO timestamp or epoch milliseconds, as ISO. */
function time(c: Context, name: "since" | "until"): string | undefined {
  const text = c.req.query(name);
  if (text === undefined || text === "") return undefined;
  const date = /^\d+$/.test(text) ? new Date(Number(text)) : new Date(text);
  if (text.length > 64 || Number.isNaN(date.getTime())) {
    throw new BadRequest(400, "bad_request", `${name} must be an ISO 8601 time or epoch milliseconds`);
  }
  return date.toISOString();
}

function boundsOf(c: Context): SourceBounds {
  const bounds: SourceBounds = {};
  const route = c.req.query("route");
  if (route !== undefined && route !== "") {
    if (route.length > MAX_NAME) throw new BadRequest(400, "bad_request", "route is too long");
    bounds.route = route;
  }
  const since = time(c, "since");
  const until = time(c, "until");
  if (since !== undefined) bounds.since = since;
  if (until !== undefined) bounds.until = until;
  return bounds;
}

/** The `{id}` of the path, bounded. */
function idOf(c: Context): string {
  const id = c.req.param("id") ?? "";
  if (id.length > MAX_NAME) throw new BadRequest(400, "bad_request", "The id is too long");
  return id;
}

/** An integer query parameter in [min, max], or the default. */
function integer(c: Context, name: string, fallback: number, min: number, max: number): number {
  const text = c.req.query(name);
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BadRequest(400, "bad_request", `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** A value on one event-stream line: a line break would end the field (and could start another). */
function sseLine(value: string): string {
  return value.replace(/[\r\n]/g, "");
}

/** A streamed text response from an async source of pieces; stops reading when the client goes away. */
function streamed(pieces: AsyncIterator<string>, headers: Record<string, string>, onCancel?: () => void): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const step = await pieces.next();
        if (step.done) controller.close();
        else controller.enqueue(encoder.encode(step.value));
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      onCancel?.();
      await pieces.return?.();
    },
  });
  return new Response(body, { status: 200, headers });
}

/**
 * The routes, to mount on the authenticated admin app.
 *
 * @example
 * app.use("/api/traces/*", requireScope("read"));
 * app.route("/api", traceRoutes(access));
 */
export function traceRoutes(access: TraceAccess): Hono {
  const api = new Hono();

  api.get("/traces", async (c) => {
    try {
      const filter = filterOf(c);
      const cursor = c.req.query("cursor");
      const page = await listTraces(access.store.sources(filter), {
        filter,
        bounds: boundsOf(c),
        limit: integer(c, "limit", 50, 1, 500),
        ...(cursor ? { cursor } : {}),
      });
      return c.json(page, 200, NO_STORE);
    } catch (error) {
      return fail(c, error);
    }
  });

  api.get("/traces/:id", async (c) => {
    try {
      const id = idOf(c);
      const detail = await traceDetail(access.store.sources(), id, {
        offset: integer(c, "offset", 0, 0, Number.MAX_SAFE_INTEGER),
        limit: integer(c, "limit", 1000, 1, 5000),
      });
      if (detail === undefined) throw new BadRequest(404, "not_found", `No captured record with id "${id}"`);
      return c.json(detail, 200, NO_STORE);
    } catch (error) {
      return fail(c, error);
    }
  });

  api.get("/traces/:id/replay", async (c) => {
    try {
      const id = idOf(c);
      const speedText = c.req.query("speed");
      const speed = speedText === undefined || speedText === "" ? 1 : Number(speedText);
      if (!Number.isFinite(speed) || speed <= 0 || speed > 1000) {
        throw new BadRequest(400, "bad_request", "speed must be a number above 0 and at most 1000");
      }
      const noDelay = c.req.query("nodelay") === "1" || c.req.query("nodelay") === "true";
      const detail = await traceDetail(access.store.sources(), id, { offset: 0, limit: Number.MAX_SAFE_INTEGER });
      if (detail === undefined) throw new BadRequest(404, "not_found", `No captured record with id "${id}"`);
      const record = detail.record;
      if (record.type !== "http" || record.sse_events === undefined || record.sse_events < 0) {
        throw new BadRequest(400, "not_event_stream", `Trace "${id}" is not an event stream`);
      }
      let aborted = false;
      const pieces: string[] = [];
      let wake: (() => void) | undefined;
      let finished = false;
      const replaying = replayEvents(detail.events.items, { speed, noDelay }, (text) => {
        pieces.push(text);
        wake?.();
      }, { aborted: () => aborted }).finally(() => {
        finished = true;
        wake?.();
      });
      const iterator: AsyncIterator<string> = {
        async next() {
          while (pieces.length === 0 && !finished) await new Promise<void>((resolve) => (wake = resolve));
          const piece = pieces.shift();
          return piece === undefined ? { done: true, value: undefined } : { done: false, value: piece };
        },
      };
      const close = () => {
        aborted = true;
        finished = true;
        pieces.length = 0;
        wake?.();
      };
      access.closers.add(close);
      void replaying.finally(() => access.closers.delete(close));
      return streamed(iterator, EVENT_STREAM, close);
    } catch (error) {
      return fail(c, error);
    }
  });

  api.get("/export", async (c) => {
    try {
      const format = (c.req.query("format") ?? "jsonl") as ExportFormat;
      if (format !== "har" && format !== "jsonl") {
        throw new BadRequest(400, "bad_request", "format must be har or jsonl");
      }
      const filter = filterOf(c);
      const bounds = boundsOf(c);
      const sources = () => access.store.sources(filter);
      // Measured first, so an export over the cap is refused before any byte is sent.
      let bytes = 0;
      const encoder = new TextEncoder();
      for await (const piece of exportText(sources(), format, filter, bounds, access.version)) {
        bytes += encoder.encode(piece).length;
        if (bytes > access.exportMaxBytes) {
          throw new BadRequest(
            413,
            "export_too_large",
            `The export is larger than export_max_size (${access.exportMaxBytes} bytes): narrow it with q, route, since or until`,
          );
        }
      }
      const name = `tapline-export.${format === "har" ? "har" : "jsonl"}`;
      return streamed(exportText(sources(), format, filter, bounds, access.version)[Symbol.asyncIterator](), {
        "Content-Type": format === "har" ? "application/json; charset=utf-8" : "application/x-ndjson; charset=utf-8",
        "Content-Disposition": `attachment; filename="${name}"`,
        "Content-Length": String(bytes),
        ...NO_STORE,
      });
    } catch (error) {
      return fail(c, error);
    }
  });

  api.get("/tail", (c) => {
    try {
      const filter = filterOf(c);
      const lastEventId = c.req.header("last-event-id");
      const backlog = integer(c, "backlog", 0, 0, TAIL_RING_RECORDS);
      const subscription = access.tail.subscribe(filter, lastEventId?.slice(0, MAX_NAME), backlog);
      let timer: ReturnType<typeof setTimeout> | undefined;
      /** The wait for records, kept across keep-alives so no wait is abandoned. */
      let pending: Promise<TailBatch> | undefined;
      // `ready` says the subscription is in place (a client may show "live" from here on) and, as its id, where it
      // starts: a client that reconnects with it misses nothing, even before its first record.
      const id = subscription.after === undefined ? "" : `id: ${sseLine(subscription.after)}\n`;
      const first: string[] = [
        `: tapline tail\n\nevent: ready\n${id}data: ${JSON.stringify({ resumed: subscription.resumed })}\n\n`,
      ];
      if (lastEventId !== undefined && !subscription.resumed) {
        first.push(`event: gap\ndata: ${JSON.stringify({ reason: "Last-Event-ID is no longer buffered" })}\n\n`);
      }
      const iterator: AsyncIterator<string> = {
        async next() {
          const head = first.shift();
          if (head !== undefined) return { done: false, value: head };
          // A keep-alive comment when nothing happened for a while.
          const keepalive = new Promise<"keepalive">((
            resolve,
          ) => (timer = setTimeout(() => resolve("keepalive"), KEEPALIVE_MS)));
          pending ??= subscription.next();
          const batch = await Promise.race([pending, keepalive]);
          clearTimeout(timer);
          if (batch === "keepalive") return { done: false, value: ": keep-alive\n\n" };
          pending = undefined;
          if (batch.records.length === 0 && batch.dropped === 0) return { done: true, value: undefined };
          let text = batch.dropped > 0 ? `event: dropped\ndata: ${JSON.stringify({ count: batch.dropped })}\n\n` : "";
          for (const record of batch.records) {
            text += `id: ${sseLine(String(record.id))}\ndata: ${recordJson(record)}\n\n`;
          }
          return { done: false, value: text };
        },
        return() {
          clearTimeout(timer);
          subscription.close();
          return Promise.resolve({ done: true, value: undefined });
        },
      };
      return streamed(iterator, EVENT_STREAM, () => subscription.close());
    } catch (error) {
      return fail(c, error);
    }
  });

  return api;
}
