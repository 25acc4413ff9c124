import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../../src/shared/errors.ts";
import { BUNDLED_PLUGINS } from "../../../src/plugins/bundled.ts";
import { loadPlugin, loadPlugins } from "../../../src/plugins/loader.ts";
import { declaration, type InlineOptions, inlinePlugin, loadOptions, pluginSource } from "./inline-fixture.ts";

async function loadError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    assert.equal(error.code, "plugin_invalid");
    return error;
  }
  assert.fail("the plugin loaded");
}

const load = (source: string, options: InlineOptions = {}) => inlinePlugin("inst", source, options);

test("an unknown bundled name lists the bundled plugins", async () => {
  const decl = { ...declaration("x"), use: "redact", file: undefined };
  const error = await loadError(loadPlugin(decl, loadOptions("")));
  assert.match(error.message, /unknown bundled plugin "redact"/);
  for (const name of Object.keys(BUNDLED_PLUGINS)) assert.ok(error.message.includes(name), `${name} listed`);
  assert.ok(Object.keys(BUNDLED_PLUGINS).length >= 3);
});

test("a bundled plugin loads by name", async () => {
  const decl = { ...declaration("redact"), use: "redaction", file: undefined };
  const instance = await loadPlugin(decl, loadOptions(""));
  try {
    assert.equal(instance.manifest.name, "redaction");
    assert.equal(instance.fail, "closed", "the manifest's failure mode applies");
    assert.deepEqual([...instance.hooks], ["onCaptureBatch"]);
  } finally {
    instance.dispose();
  }
});

test("an unreadable file names the file", async () => {
  const error = await loadError(
    loadPlugin(declaration("gone"), { ...loadOptions(""), readTextFile: () => Promise.reject(new Error("ENOENT")) }),
  );
  assert.match(error.message, /cannot read plugin file gone\.js: ENOENT/);
});

test("a null or invalid manifest is refused", async () => {
  // A module without a manifest now loads (see "a plugin file without a manifest ..." below); one that exports a
  // manifest that is not an object is still refused.
  const missing = await loadError(load("export const manifest = null;\nexport function onRequest() {}"));
  assert.match(missing.message, /invalid manifest in inst\.js/);
  const invalid = await loadError(
    load('export const manifest = { name: "x", version: "1.0.0", description: "d", hooks: ["onNothing"] };'),
  );
  assert.match(invalid.message, /invalid manifest in inst\.js: manifest\.hooks/);
  const badFail = await loadError(
    load(pluginSource({ hooks: ["onCapture"], fail: "maybe" as "open" }, "export function onCapture() {}")),
  );
  assert.match(badFail.message, /manifest\.fail/);
});

test("manifest hooks must equal the exported hooks", async () => {
  const extra = await loadError(
    load(pluginSource({ hooks: ["onRequest"] }, "export function onRequest() {}\nexport function onCapture() {}")),
  );
  assert.match(extra.message, /lists hooks \[onRequest\] but the module exports \[onRequest, onCapture\]/);
  const missing = await loadError(
    load(pluginSource({ hooks: ["onRequest", "onResponse"] }, "export function onRequest() {}")),
  );
  assert.match(missing.message, /lists hooks \[onRequest, onResponse\] but the module exports \[onRequest\]/);
});

test("config invalid against config_schema is located with locateConfig", async () => {
  const seen: Array<readonly (string | number)[]> = [];
  const source = pluginSource({
    hooks: ["onCapture"],
    config_schema: {
      type: "object",
      additionalProperties: false,
      properties: { rules: { type: "array", items: { type: "object", properties: { match: { type: "string" } } } } },
    },
  }, "export function onCapture() {}");
  const error = await loadError(load(source, {
    config: { rules: [{ match: 5 }] },
    locateConfig: (path) => {
      seen.push(path);
      return { file: "tapline.yaml", line: 12, column: 16, field: "plugins[0].config.rules[0].match" };
    },
  }));
  assert.deepEqual(seen, [["rules", 0, "match"]]);
  assert.match(
    error.message,
    /^tapline\.yaml:12:16: plugins\[0\]\.config\.rules\[0\]\.match: invalid config for plugin "inst" \(inst\.js\): must be string/,
  );
  assert.deepEqual(error.location, {
    file: "tapline.yaml",
    line: 12,
    column: 16,
    field: "plugins[0].config.rules[0].match",
  });
  const unknownKey = await loadError(
    load(source, { config: { rulez: [] }, locateConfig: (path) => ({ field: path.join(".") }) }),
  );
  assert.match(unknownKey.message, /^rulez: invalid config .*unknown key "rulez"/);
});

test("setup throwing names the plugin", async () => {
  const error = await loadError(
    load(
      pluginSource(
        { hooks: ["onRequest"] },
        'export function setup() { throw new Error("bad rule 3"); }\nexport function onRequest() {}',
      ),
    ),
  );
  assert.match(error.message, /setup of plugin "inst" \(inst\.js\) failed: Error: bad rule 3/);
});

test("setup returning hooks it does not export is refused", async () => {
  const error = await loadError(
    load(
      pluginSource(
        { hooks: ["onRequest"] },
        'export function setup() { return { hooks: ["onCapture"] }; }\nexport function onRequest() {}',
      ),
    ),
  );
  assert.match(error.message, /returned hooks it does not export: onCapture/);
  const notList = await loadError(
    load(
      pluginSource(
        { hooks: ["onRequest"] },
        'export function setup() { return { hooks: "onRequest" }; }\nexport function onRequest() {}',
      ),
    ),
  );
  assert.match(notList.message, /returned hooks it does not export/);
  const badTypes = await loadError(
    load(
      pluginSource(
        { hooks: ["onRequestBody"] },
        'export function setup() { return { body_content_types: ["json"] }; }\nexport function onRequestBody() {}',
      ),
    ),
  );
  assert.match(badTypes.message, /invalid body_content_types/);
});

test("setup narrows hooks and body content types; declaration fail overrides the manifest", async () => {
  const instance = await load(
    pluginSource(
      { hooks: ["onRequest", "onRequestBody", "onCapture"], fail: "closed" },
      `export function setup(c) { return { hooks: c.hooks, body_content_types: ["application/json"] }; }
       export function onRequest() {} export function onRequestBody() {} export function onCapture() {}`,
    ),
    { config: { hooks: ["onRequestBody"] }, fail: "open", routes: ["api"] },
  );
  try {
    assert.deepEqual([...instance.hooks], ["onRequestBody"]);
    assert.deepEqual(instance.bodyContentTypes, ["application/json"]);
    assert.equal(instance.fail, "open");
    assert.deepEqual(instance.routes, ["api"]);
    assert.equal(instance.wantsBody("text/plain"), false);
  } finally {
    instance.dispose();
  }
});

test("loadPlugins stops at the first failure", async () => {
  const good = pluginSource({ hooks: ["onCapture"] }, "export function onCapture() {}");
  const sources: Record<string, string> = { "a.js": good, "b.js": "syntax error here(" };
  const error = await loadError(loadPlugins([declaration("a"), declaration("b")], {
    ...loadOptions(""),
    readTextFile: (path) => Promise.resolve(sources[path]!),
  }));
  assert.match(error.message, /Failed to load plugin b\.js:1:\d+: SyntaxError/);
  const loaded = await loadPlugins([declaration("a")], {
    ...loadOptions(""),
    readTextFile: () => Promise.resolve(good),
  });
  assert.equal(loaded.length, 1);
  for (const instance of loaded) instance.dispose();
});

test("a plugin file without a manifest takes every exported hook; the declaration's fail still applies", async () => {
  const instance = await load(
    "export function onRequest() {}\nexport function onResponse() {}\nexport function onCapture() {}",
    { fail: "closed" },
  );
  const seen = { name: instance.manifest.name, hooks: [...instance.hooks], fail: instance.fail };
  instance.dispose();
  assert.deepEqual(seen, { name: "inst", hooks: ["onRequest", "onResponse", "onCapture"], fail: "closed" });
});

/** A manifest-less capture script: tags records, emits one custom record per call, and echoes its config. */
const BARE_SCRIPT = `
let config;
export function setup(c) { config = c; }
export function onCapture(record) {
  emit({ url: record.request.url, config });
  record.tags = { ...record.tags, seen: true };
  return record;
}
`;

test("a plugin file without a manifest loads with its file name, version 0.0.0, its exported hooks, failing open", async () => {
  const emitted: Array<{ plugin: string; data: unknown }> = [];
  const config = { anything: [1, "two"], nested: { ok: true } };
  const decl = { ...declaration("bare", { config }), use: "./scripts/tag-slow.js", file: "/srv/scripts/tag-slow.js" };
  const instance = await loadPlugin(
    decl,
    loadOptions(BARE_SCRIPT, { onEmit: (plugin, data) => emitted.push({ plugin: plugin.id, data }) }),
  );
  try {
    assert.equal(instance.id, "bare");
    assert.equal(instance.manifest.name, "tag-slow", "the name is the file name without its extension");
    assert.equal(instance.manifest.version, "0.0.0");
    assert.deepEqual(instance.manifest.hooks, ["onCapture"]);
    assert.equal(instance.manifest.config_schema, undefined);
    assert.deepEqual([...instance.hooks], ["onCapture"]);
    assert.equal(instance.fail, "open");

    const record = { type: "http", id: "r1", request: { url: "/a?b=1" }, tags: { earlier: 1 } };
    const outcome = instance.invoke("onCapture", JSON.stringify([record]), { routeName: "api", connectionId: "r1" });
    assert.deepEqual(outcome, { ok: true, value: { ...record, tags: { earlier: 1, seen: true } } });
    assert.deepEqual(emitted, [{ plugin: "bare", data: { url: "/a?b=1", config } }], "config reached setup as given");
    assert.equal(instance.metrics.emitted, 1);
  } finally {
    instance.dispose();
  }
});

test("a plugin file with neither a manifest nor a hook is refused, located at its declaration", async () => {
  const decl = {
    ...declaration("x", {}),
    use: "./a.js",
    file: "/srv/a.js",
    location: { file: "tapline.yaml", line: 7, column: 5 },
  };
  const error = await loadError(
    loadPlugin(decl, loadOptions("export function setup() {}\nexport function helper() {}\nexport const n = 1;")),
  );
  assert.equal(
    error.message,
    'tapline.yaml:7:5: Plugin "x" (/srv/a.js) exports no hook: export one of onRequest, onRequestBody, onResponse, ' +
      "onResponseBody, onSseEvent, onWsMessage, onGrpcMessage, onCapture, onCaptureBatch",
  );
  assert.deepEqual(error.location, { file: "tapline.yaml", line: 7, column: 5 });
});
