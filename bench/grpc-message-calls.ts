/**
 * What onGrpcMessage costs per message on the forwarding path, without the
 * proxy around it: a call's byte stream goes through the `GrpcRewriter` and
 * the route's `PluginChain` exactly as an exchange drives them
 * (src/core/exchange-hooks.ts), against the framing alone (`GrpcFramer`, the
 * capture tap every gRPC call has). Messages are `test.Msg {text}` of about
 * 100 bytes, described by the test descriptors.
 *
 * Usage (after `npx tsc -p tsconfig.json`), pinned like the other benchmarks:
 *   taskset -c 1 node dist/bench/grpc-message-calls.js [--messages 100000]
 */
import { parseArgs } from "node:util";
import { GrpcFramer } from "../src/capture/grpc-framer.ts";
import { grpcDecoder } from "../src/capture/grpc-decoder.ts";
import { GrpcRewriter } from "../src/core/grpc-rewriter.ts";
import { PluginChain } from "../src/plugins/chain.ts";
import { loadPlugins } from "../src/plugins/loader.ts";
import { DEFAULT_PLUGIN_LIMITS } from "../src/plugins/types.ts";
import { echoDescriptorSet, msg } from "../test/conformance/harness/grpc-descriptors.ts";

const { values } = parseArgs({ options: { messages: { type: "string", default: "100000" } } });
const messages = Number(values.messages);
const PATH = "/test.Echo/Bidi";
const call = { id: "c1", route: "bench", url: PATH, service: "test.Echo", method: "Bidi" };
const context = { routeName: "bench" };
const logger = { debug() {}, info() {}, warn() {}, error() {} };

/** One length-prefixed message of about 100 bytes. */
function frame(): Uint8Array {
  const payload = msg("x".repeat(96));
  const out = new Uint8Array(5 + payload.length);
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

/** `messages` frames in 16 KiB chunks, as the network hands them over. */
function stream(): Uint8Array[] {
  const one = frame();
  const all = new Uint8Array(one.length * messages);
  for (let i = 0; i < messages; i++) all.set(one, i * one.length);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < all.length; at += 16_384) chunks.push(all.subarray(at, at + 16_384));
  return chunks;
}

async function chainOf(source: string): Promise<PluginChain> {
  const instances = await loadPlugins([{
    id: "p",
    use: "./p.js",
    file: "p.js",
    config: {},
    limits: DEFAULT_PLUGIN_LIMITS,
  }], {
    readTextFile: () => Promise.resolve(source),
    logger,
  });
  return new PluginChain("bench", instances);
}

/** Mean µs per message over the stream, after one warm-up pass. */
function time(label: string, pass: (chunks: Uint8Array[]) => void): void {
  const chunks = stream();
  pass(chunks);
  const t0 = performance.now();
  pass(chunks);
  const us = ((performance.now() - t0) * 1000) / messages;
  process.stdout.write(`| ${label} | ${us.toFixed(2)} |\n`);
}

const codec = grpcDecoder([{ name: "echo.binpb", bytes: echoDescriptorSet() }]).codec(PATH, "server_to_client");
const through = (chain: PluginChain, withCodec: boolean) => (chunks: Uint8Array[]) => {
  const rewriter = new GrpcRewriter(
    chain.grpcMessageLimit,
    (message) =>
      chain.runGrpcMessage({ direction: "server_to_client", ...message }, call, withCodec ? codec : undefined, context),
  );
  for (const chunk of chunks) rewriter.push(chunk);
  rewriter.end();
};

process.stdout.write(`| ${messages} messages of ~100 B, 16 KiB chunks | µs/message |\n|---|--:|\n`);
time("framing only (the capture tap, no hook)", (chunks) => {
  const framer = new GrpcFramer(65_536, () => {});
  for (const chunk of chunks) framer.push(chunk);
});
const noop = await chainOf("export function onGrpcMessage() {}");
time("no-op onGrpcMessage, no descriptors", through(noop, false));
time("no-op onGrpcMessage, payload_json decoded", through(noop, true));
const rewrite = await chainOf(
  "export function onGrpcMessage(m) { return { payload_json: { text: m.payload_json.text.toUpperCase() } }; }",
);
time("onGrpcMessage rewriting payload_json", through(rewrite, true));
for (const plugin of [...noop.plugins, ...rewrite.plugins]) plugin.dispose();
