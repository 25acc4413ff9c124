/**
 * Canned OpenAI-compatible chat completions for the demo upstream: a reply
 * made from the last user message, whole or as `chat.completion.chunk`
 * objects (one word each) for a Server-Sent Events stream.
 */

/** The parts of a chat completion request the demo reads. */
export interface ChatRequest {
  model?: unknown;
  messages?: unknown;
}

const MODEL = "demo-1";

function reply(request: ChatRequest): string {
  const messages = Array.isArray(request.messages) ? request.messages : [];
  const last = messages.findLast((m) => (m as { role?: unknown })?.role === "user") as
    | { content?: unknown }
    | undefined;
  const asked = typeof last?.content === "string" ? last.content.slice(0, 200) : "";
  return asked === ""
    ? "Hello from the tapline demo upstream. Every word of this answer is one captured event."
    : `You said: ${asked}. Every word of this answer is one captured event.`;
}

function model(request: ChatRequest): string {
  return typeof request.model === "string" && request.model.length <= 64 ? request.model : MODEL;
}

/** A whole `chat.completion` object. */
export function chatCompletion(request: ChatRequest): object {
  const content = reply(request);
  const words = content.split(" ").length;
  return {
    id: "chatcmpl-demo",
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: model(request),
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: 9, completion_tokens: words, total_tokens: 9 + words },
  };
}

/** The `data:` payloads of a streamed answer, in order, without the final `[DONE]`. */
export function chatCompletionChunks(request: ChatRequest): string[] {
  const base = { id: "chatcmpl-demo", object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000) };
  const words = reply(request).split(" ");
  const chunk = (delta: object, finish: string | null) =>
    JSON.stringify({ ...base, model: model(request), choices: [{ index: 0, delta, finish_reason: finish }] });
  return [
    chunk({ role: "assistant", content: "" }, null),
    ...words.map((word, i) => chunk({ content: i === 0 ? word : ` ${word}` }, null)),
    chunk({}, "stop"),
  ];
}
