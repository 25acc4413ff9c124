import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { callOk, type LoadedExample, loadExample, setupOk } from "./fixture.ts";

const OPENAI_ID = "5b0c3c1e-6f7a-4f57-9a57-0c1a4c1f9e01";
const ANTHROPIC_ID = "9d4e2b7a-1c3d-4e5f-8a9b-0c1d2e3f4a5b";

/** An sse_event record as the capture pipeline hands it to onCapture. */
function sseRecord(connectionId: string, n: number, event: string, data: string): Record<string, unknown> {
  return {
    type: "sse_event",
    v: 1,
    id: `${connectionId.slice(0, 8)}-e${n}`,
    route_name: "llm",
    connection_id: connectionId,
    timestamp: `2026-11-21T10:00:0${Math.min(n, 9)}.000Z`,
    t_delta_ms: 120 + n * 35.5,
    event,
    data,
  };
}

/** The http record of a stream, written when it ended. */
function httpRecord(id: string, url: string, events: number): Record<string, unknown> {
  return {
    type: "http",
    v: 1,
    id,
    route_name: "llm",
    timestamp: "2026-11-21T10:00:00.000Z",
    duration_ms: 812.4,
    ttfb_request_ms: 0.6,
    ttfb_response_ms: 118.2,
    client_ip: "127.0.0.1:50312",
    upstream: "http://127.0.0.1:4000",
    request: {
      method: "POST",
      url,
      headers: { "Content-Type": ["application/json"] },
      body: '{"stream":true}',
      body_size: 15,
    },
    response: {
      status: 200,
      status_text: "OK",
      headers: { "Content-Type": ["text/event-stream; charset=utf-8"] },
      body: "",
      body_size: 2048,
    },
    sse_events: events,
  };
}

/** A recorded OpenAI chat completion stream with `stream_options.include_usage`. */
function openaiStream(id = OPENAI_ID): Record<string, unknown>[] {
  const base = {
    id: "chatcmpl-AbC123",
    object: "chat.completion.chunk",
    created: 1763719200,
    model: "gpt-4o-mini-2024-07-18",
  };
  const chunks = [
    { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }], usage: null },
    { ...base, choices: [{ index: 0, delta: { content: "Hello" }, finish_reason: null }], usage: null },
    { ...base, choices: [{ index: 0, delta: { content: " there!" }, finish_reason: null }], usage: null },
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: null },
    { ...base, choices: [], usage: { prompt_tokens: 13, completion_tokens: 7, total_tokens: 20 } },
  ];
  const records = chunks.map((chunk, n) => sseRecord(id, n, "message", JSON.stringify(chunk)));
  records.push(sseRecord(id, chunks.length, "message", "[DONE]"));
  return records;
}

/** A recorded Anthropic messages stream. */
function anthropicStream(id = ANTHROPIC_ID): Record<string, unknown>[] {
  const events: [string, unknown][] = [
    ["message_start", {
      type: "message_start",
      message: {
        id: "msg_01XYZ",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-20250514",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 25, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
      },
    }],
    ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
    ["ping", { type: "ping" }],
    ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello" } }],
    ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "!" } }],
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    ["message_delta", {
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: 15 },
    }],
    ["message_stop", { type: "message_stop" }],
  ];
  return events.map(([event, data], n) => sseRecord(id, n, event, JSON.stringify(data)));
}

describe("examples/plugins/llm-usage.js", () => {
  let example: LoadedExample;
  before(async () => {
    example = await loadExample("llm-usage");
  });
  after(() => example.sandbox.dispose());
  beforeEach(() => {
    setupOk(example.sandbox, {});
    example.emitted.length = 0;
  });

  const capture = (record: Record<string, unknown>) => callOk(example.sandbox, "onCapture", record);

  test("the manifest lists the hooks the module exports", () => {
    const manifest = example.sandbox.manifest as { name: string; hooks: string[] };
    assert.equal(manifest.name, "llm-usage");
    assert.deepEqual([...manifest.hooks].sort(), [...example.sandbox.exportedHooks].sort());
  });

  test("setup asks for onRequest only when paths are configured", () => {
    assert.deepEqual(setupOk(example.sandbox, {}), { hooks: ["onCapture"] });
    assert.deepEqual(setupOk(example.sandbox, { paths: ["^/v1/"] }), { hooks: ["onRequest", "onCapture"] });
  });

  test("an OpenAI stream gives one record with the usage of its final chunk", () => {
    for (const record of openaiStream()) assert.equal(capture(record), undefined, "records pass unchanged");
    assert.equal(capture(httpRecord(OPENAI_ID, "/v1/chat/completions", 6)), undefined);
    assert.deepEqual(example.emitted, [{
      provider: "openai",
      model: "gpt-4o-mini-2024-07-18",
      input_tokens: 13,
      output_tokens: 7,
      total_tokens: 20,
      events: 6,
      finish_reason: "stop",
      complete: true,
    }]);
  });

  test("an Anthropic stream gives one record with input and output tokens", () => {
    for (const record of anthropicStream()) assert.equal(capture(record), undefined);
    assert.equal(capture(httpRecord(ANTHROPIC_ID, "/v1/messages", 8)), undefined);
    assert.deepEqual(example.emitted, [{
      provider: "anthropic",
      model: "claude-sonnet-4-20250514",
      input_tokens: 25,
      output_tokens: 15,
      total_tokens: 40,
      events: 8,
      stop_reason: "end_turn",
      complete: true,
    }]);
  });

  test("interleaved streams are counted apart", () => {
    const a = openaiStream();
    const b = anthropicStream();
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i]) capture(a[i]!);
      if (b[i]) capture(b[i]!);
    }
    const byProvider = Object.fromEntries(
      example.emitted.map((data) => [(data as { provider: string }).provider, data]),
    ) as Record<string, { events: number; total_tokens: number }>;
    assert.equal(example.emitted.length, 2);
    assert.equal(byProvider.openai?.events, 6);
    assert.equal(byProvider.openai?.total_tokens, 20);
    assert.equal(byProvider.anthropic?.events, 8);
    assert.equal(byProvider.anthropic?.total_tokens, 40);
  });

  test("a stream cut before its terminal event is emitted when its http record arrives", () => {
    const cut = openaiStream().slice(0, 3);
    for (const record of cut) capture(record);
    assert.equal(example.emitted.length, 0, "nothing before the end");
    capture(httpRecord(OPENAI_ID, "/v1/chat/completions", 3));
    assert.deepEqual(example.emitted, [{
      provider: "openai",
      model: "gpt-4o-mini-2024-07-18",
      input_tokens: null,
      output_tokens: null,
      total_tokens: null,
      events: 3,
      finish_reason: null,
      complete: false,
    }]);
  });

  test("events after the terminal one do not start a second record", () => {
    const stream = anthropicStream();
    for (const record of stream) capture(record);
    capture(stream[3]!);
    capture(httpRecord(ANTHROPIC_ID, "/v1/messages", 9));
    assert.equal(example.emitted.length, 1);
  });

  test("non-LLM event streams and plain http records emit nothing", () => {
    const id = "11111111-2222-4333-8444-555555555555";
    capture(sseRecord(id, 0, "message", '{"price":101.5}'));
    capture(sseRecord(id, 1, "tick", "not json"));
    capture(httpRecord(id, "/prices", 2));
    capture(httpRecord("22222222-2222-4333-8444-555555555555", "/health", 0));
    assert.deepEqual(example.emitted, []);
  });

  test("with paths, only streams of matching requests are counted", () => {
    setupOk(example.sandbox, { paths: ["^/v1/chat/completions$"] });
    const request = (id: string, path: string) => ({
      id,
      route: "llm",
      method: "POST",
      url: path,
      path,
      query: "",
      headers: { "content-type": "application/json" },
      client_ip: "127.0.0.1:50312",
    });
    assert.equal(callOk(example.sandbox, "onRequest", request(OPENAI_ID, "/v1/chat/completions")), undefined);
    assert.equal(callOk(example.sandbox, "onRequest", request(ANTHROPIC_ID, "/v1/messages")), undefined);
    for (const record of [...openaiStream(), ...anthropicStream()]) capture(record);
    assert.equal(example.emitted.length, 1);
    assert.equal((example.emitted[0] as { provider: string }).provider, "openai");
  });

  test("state stays bounded when streams never end", () => {
    for (let i = 0; i < 1500; i++) {
      capture(sseRecord(`stream-${i}`, 0, "message", '{"model":"m","choices":[{"delta":{"content":"x"}}]}'));
    }
    // The oldest streams were evicted: their http records find no state.
    capture(httpRecord("stream-0", "/v1/chat/completions", 1));
    assert.equal(example.emitted.length, 0);
    capture(httpRecord("stream-1499", "/v1/chat/completions", 1));
    assert.equal(example.emitted.length, 1);
  });
});
