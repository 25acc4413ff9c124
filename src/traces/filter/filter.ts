/**
 * One filter language for every way of reading captures (the trace API, live
 * tail, export, the CLI): {@link compileFilter} turns an expression into a
 * predicate over records.
 *
 * | filter | matches |
 * | --- | --- |
 * | `~m POST` | request method |
 * | `~s 404`, `~s 5xx` | response status, or its class |
 * | `~u REGEX` | path and query |
 * | `~h "name: REGEX"`, `~hq`, `~hs` | a header of either side, the request's, the response's |
 * | `~b REGEX`, `~bq`, `~bs` | a body (as captured, or decoded), a frame's payload, an event's data |
 * | `~r ROUTE` | route name |
 * | `~t http\|websocket\|sse\|custom` | record type (an upgrade and its frames are `websocket`) |
 * | `~d >500ms` | duration (`>`, `>=`, `<`, `<=`, `=`; ms, s, m; no operator means at least) |
 * | `~c ID` | correlation id, record id or connection id |
 * | `~e` | the exchange failed (`error`) |
 * | `word` | the URL contains the word (any case) |
 *
 * `!` negates, `&` (or two terms side by side) and `|` combine, parentheses
 * group. Regexes are case-insensitive and linear-time.
 */
import type { CaptureRecord, HeaderMap, HttpRecord } from "../../shared/record.ts";
import { type FilterNode, parseFilter, type Side } from "./parse.ts";
import { filterType } from "../record-kind.ts";
import type { TextPattern } from "./regex.ts";

export { FilterError } from "./filter-error.ts";
export { filterType } from "../record-kind.ts";

/** A compiled filter. */
export interface RecordFilter {
  /** The expression as given. */
  readonly text: string;
  /** True for the empty filter, so callers can skip evaluating it. */
  readonly matchesAll: boolean;
  /** Whether it looks at bodies (`~b`, `~bq`, `~bs`), so a reader must load them. */
  readonly readsBodies: boolean;
  matches(record: CaptureRecord): boolean;
}

/**
 * Compiles a filter expression.
 *
 * @example
 * ```ts
 * const slowErrors = compileFilter("~s 5xx & ~d >500ms & !~r health");
 * records.filter((r) => slowErrors.matches(r));
 * ```
 * @throws FilterError naming the column and what was wrong
 */
export function compileFilter(text: string): RecordFilter {
  const node = parseFilter(text);
  return {
    text,
    matchesAll: node.op === "all",
    readsBodies: readsBodies(node),
    matches: (record) => evaluate(node, record),
  };
}

function readsBodies(node: FilterNode): boolean {
  switch (node.op) {
    case "body":
      return true;
    case "and":
    case "or":
      return readsBodies(node.left) || readsBodies(node.right);
    case "not":
      return readsBodies(node.operand);
    default:
      return false;
  }
}

function evaluate(node: FilterNode, record: CaptureRecord): boolean {
  switch (node.op) {
    case "all":
      return true;
    case "and":
      return evaluate(node.left, record) && evaluate(node.right, record);
    case "or":
      return evaluate(node.left, record) || evaluate(node.right, record);
    case "not":
      return !evaluate(node.operand, record);
    case "method":
      return record.type === "http" && record.request.method.toUpperCase() === node.method;
    case "status": {
      const status = record.type === "http" ? record.response?.status : undefined;
      return status !== undefined && status >= node.min && status <= node.max;
    }
    case "url":
      return record.type === "http" && node.pattern.test(record.request.url);
    case "word":
      return record.type === "http" && record.request.url.toLowerCase().includes(node.word);
    case "header":
      return record.type === "http" && headerMatches(record, node.side, node.name, node.pattern);
    case "body":
      return bodyMatches(record, node.side, node.pattern);
    case "route":
      return record.route_name === node.route;
    case "type":
      return filterType(record) === node.type;
    case "duration":
      return record.type === "http" && compare(record.duration_ms, node.compare, node.ms);
    case "id":
      return record.id === node.id || ("connection_id" in record && record.connection_id === node.id) ||
        (record.type === "http" && record.correlation_id === node.id);
    case "error":
      return record.type === "http" && record.error !== undefined;
  }
}

function compare(value: number, op: string, against: number): boolean {
  switch (op) {
    case ">":
      return value > against;
    case ">=":
      return value >= against;
    case "<":
      return value < against;
    case "<=":
      return value <= against;
    default:
      return value === against;
  }
}

function headersMatch(headers: HeaderMap | undefined, name: string | undefined, pattern: TextPattern): boolean {
  if (headers === undefined) return false;
  for (const key in headers) {
    const values = headers[key]!;
    if (name !== undefined) {
      if (key.toLowerCase() !== name) continue;
      if (values.some((value) => pattern.test(value))) return true;
    } else if (values.some((value) => pattern.test(`${key.toLowerCase()}: ${value}`))) return true;
  }
  return false;
}

function headerMatches(record: HttpRecord, side: Side, name: string | undefined, pattern: TextPattern): boolean {
  return (side !== "response" && headersMatch(record.request.headers, name, pattern)) ||
    (side !== "request" && headersMatch(record.response?.headers, name, pattern));
}

/** A body's texts a regex can search: the captured text, and the decoded text; never base64. */
function bodyTexts(part: HttpRecord["request"] | HttpRecord["response"]): string[] {
  const texts: string[] = [];
  if (part === undefined) return texts;
  if (part.body !== undefined && !part.body_base64) texts.push(part.body);
  if (part.body_decoded !== undefined && !part.body_decoded_base64) texts.push(part.body_decoded);
  return texts;
}

function bodyMatches(record: CaptureRecord, side: Side, pattern: TextPattern): boolean {
  switch (record.type) {
    case "http":
      return (side !== "response" && bodyTexts(record.request).some((t) => pattern.test(t))) ||
        (side !== "request" && bodyTexts(record.response).some((t) => pattern.test(t)));
    case "websocket_frame": {
      if (record.payload === undefined || record.payload_base64) return false;
      const fromClient = record.direction === "client_to_server";
      if ((side === "request" && !fromClient) || (side === "response" && fromClient)) return false;
      return pattern.test(record.payload);
    }
    case "sse_event":
      return side !== "request" && pattern.test(record.data);
    case "grpc_message":
      // Protobuf bytes, kept as base64: there is no text to match.
      return false;
    default:
      return record.data !== undefined && pattern.test(JSON.stringify(record.data));
  }
}
