import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { CaptureRecord } from "../../../src/shared/record.ts";
import { resolveCommandLine } from "../../../src/config/load.ts";
import { parseYamlConfig } from "../../../src/config/yaml.ts";
import type { Config } from "../../../src/config/types.ts";
import { ConfigError } from "../../../src/shared/errors.ts";
import { PluginChain } from "../../../src/plugins/chain.ts";
import type { PluginInstance } from "../../../src/plugins/instance.ts";
import type { HookContext } from "../../../src/core/hooks.ts";
import { loadPlugins } from "../../../src/plugins/loader.ts";
import { memoryLogger, repoRoot } from "./fixture.ts";
import { grpcDecoder } from "../../../src/capture/grpc-decoder.ts";
import { echoDescriptorSet, msg } from "../../conformance/harness/grpc-descriptors.ts";

const readTextFile = (path: string) => readFile(path, "utf8");

/** The Config an example file gives, as `tapline --config <file>` resolves it. */
async function configOf(name: string): Promise<Config> {
  const command = await resolveCommandLine(["--config", join(repoRoot(), "examples", name)], {}, readTextFile);
  assert.equal(command.kind, "run");
  return command.config;
}

/** id -> the hooks the instance uses. */
function hooksById(instances: PluginInstance[]): Record<string, string[]> {
  return Object.fromEntries(instances.map((instance) => [instance.id, [...instance.hooks]]));
}

test("examples/quickstart.yaml loads the three bundled plugins", async () => {
  const config = await configOf("quickstart.yaml");
  assert.deepEqual(config.proxies.map((proxy) => proxy.name), ["app"]);
  assert.deepEqual(config.plugins.map((plugin) => [plugin.id, plugin.use]), [
    ["only-api", "path-filter"],
    ["public-urls", "text-replace"],
    ["scrub", "redaction"],
  ]);
  const instances = await loadPlugins(config.plugins, { readTextFile, logger: memoryLogger() });
  try {
    assert.deepEqual(hooksById(instances), {
      "only-api": ["onRequest"],
      "public-urls": ["onResponseBody", "onSseEvent", "onWsMessage"],
      scrub: ["onCaptureBatch"],
    });
    assert.deepEqual(instances.map((instance) => instance.fail), ["open", "open", "closed"]);
    assert.deepEqual([...instances[1]!.bodyContentTypes].sort(), ["application/json", "text/html"]);
  } finally {
    for (const instance of instances) instance.dispose();
  }
});

test("examples/plugins.yaml loads both example scripts, resolved next to the file", async () => {
  const config = await configOf("plugins.yaml");
  const [block, usage] = config.plugins;
  assert.equal(block?.file, join(repoRoot(), "examples", "plugins", "block-path.js"));
  assert.equal(usage?.file, join(repoRoot(), "examples", "plugins", "llm-usage.js"));
  assert.deepEqual(usage?.routes, ["llm"]);
  assert.equal(usage?.limits.captureMs, 200);

  const emitted: { plugin: string; data: unknown; context: HookContext }[] = [];
  const instances = await loadPlugins(config.plugins, {
    readTextFile,
    logger: memoryLogger(),
    onEmit: (plugin, data, context) => emitted.push({ plugin: plugin.id, data, context }),
  });
  try {
    assert.deepEqual(hooksById(instances), {
      "block-admin": ["onRequest"],
      "llm-usage": ["onRequest", "onCapture"],
    });
    assert.equal(instances[0]!.fail, "closed");

    // Through the chain as the proxy runs it: a blocked path is answered without the upstream.
    const chain = new PluginChain("llm", instances);
    const id = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c";
    const view = (path: string) => ({
      id,
      route: "llm",
      method: "POST",
      url: path,
      path,
      query: "",
      headers: { "content-type": "application/json" },
      client_ip: "127.0.0.1:50312",
    });
    const blocked = chain.runRequest(view("/admin/keys"), [], { routeName: "llm", connectionId: id });
    assert.equal(blocked.respond?.status, 403);
    assert.equal(JSON.parse(blocked.respond?.body ?? "{}").error, "Not available through this proxy");

    const passed = chain.runRequest(view("/v1/chat/completions"), [], { routeName: "llm", connectionId: id });
    assert.equal(passed.respond, undefined);
    assert.equal(passed.capture, true);

    // The stream's events reach llm-usage's onCapture unchanged; its record carries the exchange id.
    const events = ['{"model":"gpt-4o","choices":[{"delta":{"content":"Hi"},"finish_reason":"stop"}]}', "[DONE]"];
    for (const [n, data] of events.entries()) {
      const record = {
        type: "sse_event",
        v: 1,
        id: `event-${n}`,
        route_name: "llm",
        connection_id: id,
        timestamp: "2026-11-21T10:00:00.000Z",
        t_delta_ms: 10 * n,
        event: "message",
        data,
      } as CaptureRecord;
      const result = await chain.runCapture(record);
      assert.deepEqual(result.record, record);
    }
    assert.equal(emitted.length, 1);
    assert.equal(emitted[0]?.plugin, "llm-usage");
    assert.deepEqual(emitted[0]?.context, { routeName: "llm", connectionId: id, generation: 1 });
    assert.deepEqual(emitted[0]?.data, {
      provider: "openai",
      model: "gpt-4o",
      input_tokens: null,
      output_tokens: null,
      total_tokens: null,
      events: 2,
      finish_reason: "stop",
      complete: true,
    });
  } finally {
    for (const instance of instances) instance.dispose();
  }
});

test("a config the example's config_schema rejects names the YAML line", async () => {
  const file = join(repoRoot(), "examples", "bad.yaml");
  const yaml = `proxies:
  - name: api
    upstream: http://127.0.0.1:3000
    listen_http: 127.0.0.1:8080
plugins:
  - id: block
    use: ./plugins/block-path.js
    config:
      prefixes: [admin]
`;
  const layer = parseYamlConfig(yaml, file);
  const declarations = (layer.plugins ?? []).map((entry) => entry.plugin);
  await assert.rejects(loadPlugins(declarations, { readTextFile, logger: memoryLogger() }), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.location?.line, 9);
    assert.match(error.message, /invalid config for plugin "block"/);
    assert.match(error.message, /must match pattern/);
    return true;
  });
});

test("the README's tag-slow declaration loads, relative to a config in examples/", async () => {
  const readme = await readTextFile(join(repoRoot(), "README.md"));
  const block = /```yaml\n(plugins:\n {2}- id: slow\n[^`]*)```/.exec(readme)?.[1];
  assert.ok(block, "README.md declares tag-slow");
  const yaml =
    `proxies:\n  - name: api\n    upstream: http://127.0.0.1:3000\n    listen_http: 127.0.0.1:8080\n${block}`;
  const layer = parseYamlConfig(yaml, join(repoRoot(), "examples", "app.yaml"));
  const declarations = (layer.plugins ?? []).map((entry) => entry.plugin);
  const instances = await loadPlugins(declarations, { readTextFile, logger: memoryLogger() });
  try {
    assert.deepEqual(hooksById(instances), { slow: ["onResponse", "onCapture"] });
  } finally {
    for (const instance of instances) instance.dispose();
  }
});

test("examples/grpc.yaml: grpc-mask masks the configured field of the configured method, both ways", async () => {
  const config = await configOf("grpc.yaml");
  assert.deepEqual(config.grpcDescriptors, [join(repoRoot(), "examples", "api.binpb")]);
  assert.deepEqual(config.plugins.map((plugin) => [plugin.id, plugin.use]), [
    ["mask-names", "./plugins/grpc-mask.js"],
    ["scrub", "redaction"],
  ]);
  const [mask] = await loadPlugins([config.plugins[0]!], { readTextFile, logger: memoryLogger() });
  const chain = new PluginChain("grpc", [mask!]);
  try {
    // A `helloworld.HelloRequest {string name = 1}` stands in for the example's API: the echo descriptors' test.Msg
    // has `text`, so the mask is configured on that field here.
    const codec = grpcDecoder([{ name: "echo.binpb", bytes: echoDescriptorSet() }]).codec(
      "/test.Echo/Unary",
      "client_to_server",
    );
    const masking = new PluginChain("grpc", [
      (await loadPlugins([{ ...config.plugins[0]!, id: "mask-text", config: { fields: ["text"], mask: "•" } }], {
        readTextFile,
        logger: memoryLogger(),
      }))[0]!,
    ]);
    const call = { id: "c1", route: "grpc", url: "/test.Echo/Unary", service: "test.Echo", method: "Unary" };
    const context: HookContext = { routeName: "grpc" };
    const run = (c: PluginChain, text: string) =>
      c.runGrpcMessage({ direction: "client_to_server", compressed: false, payload: msg(text) }, call, codec, context);
    assert.deepEqual(run(masking, "ada"), { compressed: false, payload: msg("•") });
    // The example's own config masks `name` of helloworld.Greeter/SayHello only: other methods pass.
    assert.equal(run(chain, "ada"), undefined);
    for (const plugin of masking.plugins) plugin.dispose();
  } finally {
    mask!.dispose();
  }
});
