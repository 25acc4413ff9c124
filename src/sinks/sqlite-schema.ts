/**
 * The SQLite layout of captured records: http-tap-proxy's tables and columns
 * (so its queries keep working), plus tapline's additions at the end of each
 * table. One row per record; bodies and payloads are BLOBs of the raw
 * captured bytes, never base64.
 */
import type { HeaderMap, HttpRecord, SseEventRecord, WebSocketFrameRecord } from "../shared/record.ts";
import type { CaptureRecord } from "../shared/record.ts";
import type { Database, SqlValue, Statement } from "sql.js";

/** Bumped when the layout changes; stored in `PRAGMA user_version`. */
export const SQLITE_SCHEMA_VERSION = 2;

/** A column: name and declared type (with constraints). */
type Column = readonly [name: string, type: string];

/**
 * `http_entries`, in the order `httpRow` fills them. Up to `resp_x_request_id`
 * these are http-tap-proxy's columns; `req_proto` and `resp_proto` stay NULL
 * because tapline's records do not carry the protocol version.
 */
export const HTTP_COLUMNS: readonly Column[] = [
  ["id", "TEXT PRIMARY KEY"],
  ["route_name", "TEXT NOT NULL"],
  ["timestamp", "TEXT NOT NULL"],
  ["duration_ms", "REAL"],
  ["client_ip", "TEXT"],
  ["error", "TEXT"],
  ["req_method", "TEXT"],
  ["req_url", "TEXT"],
  ["req_proto", "TEXT"],
  ["req_host", "TEXT"],
  ["req_headers", "TEXT"],
  ["req_body", "BLOB"],
  ["req_body_size", "INTEGER"],
  ["req_body_truncated", "INTEGER"],
  ["req_content_type", "TEXT"],
  ["req_content_length", "INTEGER"],
  ["req_authorization", "TEXT"],
  ["req_cookie", "TEXT"],
  ["req_user_agent", "TEXT"],
  ["req_accept", "TEXT"],
  ["req_accept_encoding", "TEXT"],
  ["req_referer", "TEXT"],
  ["req_origin", "TEXT"],
  ["req_x_forwarded_for", "TEXT"],
  ["req_x_request_id", "TEXT"],
  ["resp_status", "INTEGER"],
  ["resp_status_text", "TEXT"],
  ["resp_proto", "TEXT"],
  ["resp_headers", "TEXT"],
  ["resp_body", "BLOB"],
  ["resp_body_size", "INTEGER"],
  ["resp_body_truncated", "INTEGER"],
  ["resp_content_type", "TEXT"],
  ["resp_content_length", "INTEGER"],
  ["resp_content_encoding", "TEXT"],
  ["resp_set_cookie", "TEXT"],
  ["resp_location", "TEXT"],
  ["resp_cache_control", "TEXT"],
  ["resp_etag", "TEXT"],
  ["resp_last_modified", "TEXT"],
  ["resp_www_authenticate", "TEXT"],
  ["resp_x_request_id", "TEXT"],
  // tapline's additions
  ["v", "INTEGER"],
  ["correlation_id", "TEXT"],
  ["upstream", "TEXT"],
  ["ttfb_request_ms", "REAL"],
  ["ttfb_response_ms", "REAL"],
  ["disconnected", "INTEGER"],
  ["sse_events", "INTEGER"],
  ["tags", "TEXT"],
  // Decoded (gunzipped etc.) bodies: TEXT, or a BLOB when not printable.
  ["req_body_decoded", "TEXT"],
  ["req_body_decoded_truncated", "INTEGER"],
  ["resp_body_decoded", "TEXT"],
  ["resp_body_decoded_truncated", "INTEGER"],
];

/** `websocket_frames`, in the order `frameRow` fills them (http-tap-proxy's first). */
export const FRAME_COLUMNS: readonly Column[] = [
  ["id", "TEXT PRIMARY KEY"],
  ["route_name", "TEXT NOT NULL"],
  ["connection_id", "TEXT NOT NULL"],
  ["timestamp", "TEXT NOT NULL"],
  ["direction", "TEXT"],
  ["opcode", "INTEGER"],
  ["opcode_name", "TEXT"],
  ["fin", "INTEGER"],
  ["masked", "INTEGER"],
  ["payload", "BLOB"],
  ["payload_size", "INTEGER"],
  ["v", "INTEGER"],
  ["payload_truncated", "INTEGER"],
  ["close_code", "INTEGER"],
  ["close_reason", "TEXT"],
  ["tags", "TEXT"],
];

/** `sse_events`, in the order `eventRow` fills them (http-tap-proxy's first). */
export const SSE_COLUMNS: readonly Column[] = [
  ["id", "TEXT PRIMARY KEY"],
  ["route_name", "TEXT NOT NULL"],
  ["connection_id", "TEXT NOT NULL"],
  ["timestamp", "TEXT NOT NULL"],
  ["event_type", "TEXT"],
  ["data", "TEXT"],
  ["event_id", "TEXT"],
  ["retry", "INTEGER"],
  ["v", "INTEGER"],
  ["t_delta_ms", "REAL"],
  ["data_truncated", "INTEGER"],
  ["tags", "TEXT"],
];

/** `custom_records`: script-emitted records, and any record type this version does not know. */
export const CUSTOM_COLUMNS: readonly Column[] = [
  ["id", "TEXT PRIMARY KEY"],
  ["route_name", "TEXT"],
  ["timestamp", "TEXT"],
  ["type", "TEXT"],
  ["plugin", "TEXT"],
  ["data", "TEXT"],
  ["v", "INTEGER"],
  ["tags", "TEXT"],
  // Layout 2: the exchange a plugin's custom record belongs to.
  ["connection_id", "TEXT"],
];

/** Every table with its columns and indexes (index name, indexed column). */
export const TABLES: readonly { name: string; columns: readonly Column[]; indexes: readonly Column[] }[] = [
  {
    name: "http_entries",
    columns: HTTP_COLUMNS,
    indexes: [
      ["idx_http_timestamp", "timestamp"],
      ["idx_http_route", "route_name"],
      ["idx_http_method", "req_method"],
      ["idx_http_status", "resp_status"],
      ["idx_http_url", "req_url"],
      ["idx_http_content_type", "resp_content_type"],
      ["idx_http_req_content_type", "req_content_type"],
      ["idx_http_correlation", "correlation_id"],
    ],
  },
  {
    name: "websocket_frames",
    columns: FRAME_COLUMNS,
    indexes: [
      ["idx_ws_timestamp", "timestamp"],
      ["idx_ws_route", "route_name"],
      ["idx_ws_connection", "connection_id"],
      ["idx_ws_opcode", "opcode"],
    ],
  },
  {
    name: "sse_events",
    columns: SSE_COLUMNS,
    indexes: [
      ["idx_sse_timestamp", "timestamp"],
      ["idx_sse_route", "route_name"],
      ["idx_sse_connection", "connection_id"],
    ],
  },
  {
    name: "custom_records",
    columns: CUSTOM_COLUMNS,
    indexes: [
      ["idx_custom_timestamp", "timestamp"],
      ["idx_custom_route", "route_name"],
      ["idx_custom_plugin", "plugin"],
    ],
  },
];

/**
 * Creates the tables and indexes that are missing. A table that exists with
 * fewer columns (a database written by http-tap-proxy or an older tapline)
 * gains the missing ones, so appending to it works.
 */
export function applySchema(db: Database): void {
  for (const table of TABLES) {
    const defs = table.columns.map(([name, type]) => `${name} ${type}`).join(", ");
    db.run(`CREATE TABLE IF NOT EXISTS ${table.name} (${defs})`);
    const present = new Set<string>();
    for (const row of db.exec(`PRAGMA table_info(${table.name})`)[0]?.values ?? []) present.add(String(row[1]));
    for (const [name, type] of table.columns) {
      // ALTER TABLE cannot add a PRIMARY KEY or NOT NULL column without a default.
      if (!present.has(name)) db.run(`ALTER TABLE ${table.name} ADD COLUMN ${name} ${type.split(" ")[0]}`);
    }
    for (const [index, column] of table.indexes) {
      db.run(`CREATE INDEX IF NOT EXISTS ${index} ON ${table.name}(${column})`);
    }
  }
  const version = Number(db.exec("PRAGMA user_version")[0]?.values[0]?.[0] ?? 0);
  if (version < SQLITE_SCHEMA_VERSION) db.run(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION}`);
}

function insertSql(table: string, columns: readonly Column[]): string {
  // OR IGNORE: a record written twice (reindex over a live file, a replayed
  // batch) keeps one row instead of failing its whole batch.
  return `INSERT OR IGNORE INTO ${table} (${columns.map((c) => c[0]).join(", ")}) VALUES (${
    columns.map(() => "?").join(", ")
  })`;
}

/** Prepared insert statements of one database, reused for every row. */
export class RecordInserter {
  readonly #http: Statement;
  readonly #frame: Statement;
  readonly #event: Statement;
  readonly #custom: Statement;

  constructor(db: Database) {
    this.#http = db.prepare(insertSql("http_entries", HTTP_COLUMNS));
    this.#frame = db.prepare(insertSql("websocket_frames", FRAME_COLUMNS));
    this.#event = db.prepare(insertSql("sse_events", SSE_COLUMNS));
    this.#custom = db.prepare(insertSql("custom_records", CUSTOM_COLUMNS));
  }

  /** Inserts one record into the table of its type; unknown types go to `custom_records`. */
  insert(record: CaptureRecord): void {
    switch (record.type) {
      case "http":
        this.#http.run(httpRow(record));
        return;
      case "websocket_frame":
        this.#frame.run(frameRow(record));
        return;
      case "sse_event":
        this.#event.run(eventRow(record));
        return;
      default:
        this.#custom.run(customRow(record));
    }
  }

  /** Frees the statements; the database stays open. */
  free(): void {
    this.#http.free();
    this.#frame.free();
    this.#event.free();
    this.#custom.free();
  }
}

const encoder = new TextEncoder();

/** The raw bytes of a captured body or payload: base64 decoded, or text as UTF-8. */
export function capturedBytes(text: string | undefined, base64: boolean | undefined): Uint8Array | null {
  if (text === undefined) return null;
  return base64 ? decodeBase64(text) : encoder.encode(text);
}

const fromBase64 = (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array }).fromBase64;

function decodeBase64(text: string): Uint8Array {
  if (fromBase64) return fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A decoded body: TEXT when it was text, a BLOB when the record carries it as base64. */
function decodedValue(text: string | undefined, base64: boolean | undefined): SqlValue {
  if (text === undefined) return null;
  return base64 ? decodeBase64(text) : text;
}

const flag = (value: boolean | undefined): number => (value ? 1 : 0);
const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);
const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

/** Header names extracted into columns, lowercased. */
const REQUEST_HEADERS = [
  "content-type",
  "content-length",
  "authorization",
  "cookie",
  "user-agent",
  "accept",
  "accept-encoding",
  "referer",
  "origin",
  "x-forwarded-for",
  "x-request-id",
  "host",
] as const;
const RESPONSE_HEADERS = [
  "content-type",
  "content-length",
  "content-encoding",
  "set-cookie",
  "location",
  "cache-control",
  "etag",
  "last-modified",
  "www-authenticate",
  "x-request-id",
] as const;

/**
 * The first value of each wanted header, matched without regard to case
 * (records carry Go-canonical names, but a reindexed file may not).
 */
function pickHeaders(headers: HeaderMap | undefined, wanted: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  if (!headers) return found;
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (found.has(lower) || !wanted.includes(lower)) continue;
    const value = headers[name]?.[0];
    if (value !== undefined) found.set(lower, value);
  }
  return found;
}

function intOrNull(value: string | undefined): number | null {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return null;
  return Number(value);
}

/** The `http_entries` row of a record, in `HTTP_COLUMNS` order. */
export function httpRow(r: HttpRecord): SqlValue[] {
  const req = r.request;
  const res = r.response;
  const qh = pickHeaders(req.headers, REQUEST_HEADERS);
  const sh = pickHeaders(res?.headers, RESPONSE_HEADERS);
  return [
    r.id,
    r.route_name,
    r.timestamp,
    r.duration_ms,
    r.client_ip,
    orNull(r.error),
    req.method,
    req.url,
    null,
    orNull(qh.get("host")),
    JSON.stringify(req.headers),
    capturedBytes(req.body, req.body_base64),
    req.body_size,
    flag(req.body_truncated),
    orNull(qh.get("content-type")),
    intOrNull(qh.get("content-length")),
    orNull(qh.get("authorization")),
    orNull(qh.get("cookie")),
    orNull(qh.get("user-agent")),
    orNull(qh.get("accept")),
    orNull(qh.get("accept-encoding")),
    orNull(qh.get("referer")),
    orNull(qh.get("origin")),
    orNull(qh.get("x-forwarded-for")),
    orNull(qh.get("x-request-id")),
    res ? res.status : null,
    res ? res.status_text : null,
    null,
    res ? JSON.stringify(res.headers) : null,
    res ? capturedBytes(res.body, res.body_base64) : null,
    res ? res.body_size : null,
    res ? flag(res.body_truncated) : null,
    orNull(sh.get("content-type")),
    intOrNull(sh.get("content-length")),
    orNull(sh.get("content-encoding")),
    orNull(sh.get("set-cookie")),
    orNull(sh.get("location")),
    orNull(sh.get("cache-control")),
    orNull(sh.get("etag")),
    orNull(sh.get("last-modified")),
    orNull(sh.get("www-authenticate")),
    orNull(sh.get("x-request-id")),
    r.v,
    orNull(r.correlation_id),
    r.upstream,
    r.ttfb_request_ms,
    r.ttfb_response_ms,
    flag(r.disconnected),
    orNull(r.sse_events),
    json(r.tags),
    decodedValue(req.body_decoded, req.body_decoded_base64),
    req.body_decoded === undefined ? null : flag(req.body_decoded_truncated),
    res ? decodedValue(res.body_decoded, res.body_decoded_base64) : null,
    res?.body_decoded === undefined ? null : flag(res.body_decoded_truncated),
  ];
}

/** The `websocket_frames` row of a record, in `FRAME_COLUMNS` order. */
export function frameRow(r: WebSocketFrameRecord): SqlValue[] {
  return [
    r.id,
    r.route_name,
    r.connection_id,
    r.timestamp,
    r.direction,
    r.opcode,
    r.opcode_name,
    // The relay sees whole messages; RFC 6455 requires clients to mask and servers not to.
    1,
    r.direction === "client_to_server" ? 1 : 0,
    capturedBytes(r.payload, r.payload_base64),
    r.payload_size,
    r.v,
    flag(r.payload_truncated),
    orNull(r.close_code),
    orNull(r.close_reason),
    json(r.tags),
  ];
}

/** The `sse_events` row of a record, in `SSE_COLUMNS` order. */
export function eventRow(r: SseEventRecord): SqlValue[] {
  return [
    r.id,
    r.route_name,
    r.connection_id,
    r.timestamp,
    r.event,
    r.data,
    orNull(r.id_field),
    orNull(r.retry),
    r.v,
    r.t_delta_ms,
    flag(r.data_truncated),
    json(r.tags),
  ];
}

/** A record of a type without its own table, such as `custom` from capture scripts. */
interface LooseRecord {
  type?: unknown;
  id?: unknown;
  route_name?: unknown;
  timestamp?: unknown;
  plugin?: unknown;
  data?: unknown;
  v?: unknown;
  tags?: unknown;
  connection_id?: unknown;
}

const textOrNull = (value: unknown): string | null => (typeof value === "string" ? value : null);

/**
 * The `custom_records` row of a record, in `CUSTOM_COLUMNS` order. A `custom`
 * record's `data` is stored as JSON; any other type keeps the whole record
 * as its data so nothing is lost.
 */
export function customRow(record: unknown): SqlValue[] {
  const r = record as LooseRecord;
  const custom = r.type === "custom";
  return [
    textOrNull(r.id),
    textOrNull(r.route_name),
    textOrNull(r.timestamp),
    textOrNull(r.type),
    textOrNull(r.plugin),
    custom ? json(r.data) : JSON.stringify(record),
    typeof r.v === "number" ? r.v : null,
    json(r.tags),
    textOrNull(r.connection_id),
  ];
}
