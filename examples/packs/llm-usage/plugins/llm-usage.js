/**
 * llm-usage: a custom capture script. It reads the Server-Sent Events of
 * streaming LLM responses (OpenAI-style chat completions and Anthropic-style
 * messages) as they are captured and emits one `custom` record per response:
 *
 *   {"provider":"openai","model":"gpt-4o-mini","input_tokens":12,"output_tokens":40,
 *    "total_tokens":52,"events":14,"finish_reason":"stop","complete":true}
 *
 * It only observes (`onCapture` returns undefined, so records are written
 * unchanged) and runs off the forwarding path. State is kept per stream,
 * keyed by the events' `connection_id` (the `id` of the exchange's http
 * record), and deleted once the record is emitted.
 *
 * OpenAI sends usage only when the request asks for it
 * (`"stream_options": {"include_usage": true}`); without it the token fields
 * are null.
 */

export const manifest = {
  name: "llm-usage",
  version: "1.0.0",
  description: "Emits one record per streamed LLM response with the model and token usage",
  hooks: ["onRequest", "onCapture"],
  config_schema: {
    type: "object",
    additionalProperties: false,
    properties: {
      paths: {
        description:
          "Regular expressions on the request path: only streams of matching requests are counted (all when absent)",
        type: "array",
        items: { type: "string", minLength: 1 },
      },
    },
  },
  fail: "open",
};

/** Streams followed at once; past it the oldest is dropped (bounded memory). */
const MAX_STREAMS = 1000;

/** Stream state by connection_id; a Map iterates in insertion order, so the first key is the oldest. */
const streams = new Map();
/** Streams already emitted, so events arriving after the end do not start a new count. */
const finished = new Set();
/** With `paths`: ids of requests whose path matched, noted by onRequest. */
const wanted = new Set();
let paths = null;

/** Adds to a bounded Map or Set, evicting the oldest entry when full. */
function remember(collection, key, value) {
  if (collection.size >= MAX_STREAMS) collection.delete(collection.keys().next().value);
  if (value === undefined) collection.add(key);
  else collection.set(key, value);
}

export function setup(config) {
  const list = (config ?? {}).paths ?? [];
  paths = list.length > 0 ? list.map((source) => new RegExp(source)) : null;
  streams.clear();
  finished.clear();
  wanted.clear();
  // Without paths there is nothing to decide per request: skip onRequest entirely.
  return { hooks: paths === null ? ["onCapture"] : ["onRequest", "onCapture"] };
}

/** Notes which requests match `paths` (the events carry no path). Never changes the request. */
export function onRequest(req) {
  if (paths.some((re) => re.test(req.path))) remember(wanted, req.id, undefined);
  return undefined;
}

/** The event's JSON data, or null when it is not JSON (or was truncated). */
function parse(data) {
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}

function stateOf(id) {
  let state = streams.get(id);
  if (state === undefined) {
    state = {
      provider: null,
      model: null,
      input_tokens: null,
      output_tokens: null,
      total_tokens: null,
      events: 0,
      reason: null,
    };
    remember(streams, id, state);
  }
  return state;
}

/** Emits the record of one stream and forgets it. */
function finish(id, state, complete) {
  streams.delete(id);
  wanted.delete(id);
  remember(finished, id, undefined);
  if (state.provider === null) return;
  const total = state.total_tokens ??
    (state.input_tokens !== null && state.output_tokens !== null ? state.input_tokens + state.output_tokens : null);
  const record = {
    provider: state.provider,
    model: state.model,
    input_tokens: state.input_tokens,
    output_tokens: state.output_tokens,
    total_tokens: total,
    events: state.events,
  };
  record[state.provider === "anthropic" ? "stop_reason" : "finish_reason"] = state.reason;
  record.complete = complete;
  emit(record);
}

/** One unnamed event of an OpenAI chat completion stream. Returns true on `data: [DONE]`. */
function openai(state, data) {
  if (data.trim() === "[DONE]") return true;
  const chunk = parse(data);
  if (chunk === null || typeof chunk !== "object") return false;
  // Other streams send unnamed events too: only chunks with choices or usage count as OpenAI's.
  if (!Array.isArray(chunk.choices) && !chunk.usage) return false;
  state.provider = "openai";
  if (typeof chunk.model === "string") state.model = chunk.model;
  const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
  if (choice && typeof choice.finish_reason === "string") state.reason = choice.finish_reason;
  const usage = chunk.usage;
  if (usage && typeof usage === "object") {
    if (typeof usage.prompt_tokens === "number") state.input_tokens = usage.prompt_tokens;
    if (typeof usage.completion_tokens === "number") state.output_tokens = usage.completion_tokens;
    if (typeof usage.total_tokens === "number") state.total_tokens = usage.total_tokens;
  }
  return false;
}

/** One named event of an Anthropic message stream. Returns true on `message_stop` (or `error`). */
function anthropic(state, type, data) {
  if (type === "message_start") {
    const message = (parse(data) ?? {}).message;
    if (!message || typeof message !== "object") return false;
    state.provider = "anthropic";
    if (typeof message.model === "string") state.model = message.model;
    const usage = message.usage ?? {};
    if (typeof usage.input_tokens === "number") state.input_tokens = usage.input_tokens;
    if (typeof usage.output_tokens === "number") state.output_tokens = usage.output_tokens;
    return false;
  }
  if (state.provider !== "anthropic") return false;
  if (type === "message_delta") {
    const body = parse(data) ?? {};
    const usage = body.usage;
    if (usage && typeof usage.output_tokens === "number") state.output_tokens = usage.output_tokens;
    const reason = body.delta && body.delta.stop_reason;
    if (typeof reason === "string") state.reason = reason;
    return false;
  }
  if (type === "error") {
    state.reason = "error";
    return true;
  }
  return type === "message_stop";
}

function onEvent(record) {
  const id = record.connection_id;
  if (finished.has(id) || (paths !== null && !wanted.has(id))) return;
  const state = stateOf(id);
  state.events++;
  // OpenAI sends unnamed events (`message`); Anthropic names every event.
  const done = record.event === "message" ? openai(state, record.data) : anthropic(state, record.event, record.data);
  if (done) finish(id, state, true);
}

export function onCapture(record) {
  if (record.type === "sse_event") {
    onEvent(record);
  } else if (record.type === "http") {
    // Written when the stream ended: emit what was seen if no terminal event came.
    const state = streams.get(record.id);
    if (state !== undefined) finish(record.id, state, false);
    // No event of this exchange comes after its http record.
    wanted.delete(record.id);
    finished.delete(record.id);
  }
  return undefined;
}
