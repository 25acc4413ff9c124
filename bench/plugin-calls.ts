/**
 * What one call into a plugin sandbox costs, without the proxy around it:
 * the JSON crossing alone (no-op hooks with the real argument shapes) and
 * each bundled plugin with the plugin benchmark's configs, on the same
 * 1 KiB JSON body and its captured record. Explains where the time of
 * bench/plugins.ts goes.
 *
 * Usage (after `npx tsc -p tsconfig.json`), pinned like the benchmark:
 *   taskset -c 1 node dist/bench/plugin-calls.js [--calls 3000]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PluginSandbox } from "../src/plugins/sandbox.ts";
import { bodyArgs, recordArgs, recordsArgs } from "../src/plugins/hook-args.ts";
import { CAPTURE_BATCH } from "../src/plugins/chain.ts";
import { Reads } from "../src/plugins/reads.ts";
import { bodyJson } from "./bodies.ts";
import { repoRoot } from "./env.ts";

const root = repoRoot();
const { values } = parseArgs({ options: { calls: { type: "string", default: "3000" } } });
const calls = Number(values.calls);

const body = bodyJson(1024);
const requestView = {
  id: "e7862922-db4b-4f48-98da-9666c31c1ce3",
  route: "bench",
  method: "GET",
  url: "/1k.json",
  path: "/1k.json",
  query: "",
  headers: {
    host: "127.0.0.1:18480",
    "user-agent": "wrk",
    accept: "*/*",
    authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2lnbmF0dXJlLWJlbmNo",
    cookie: "session=7f3c9a1e5b; theme=dark",
  },
  client_ip: "127.0.0.1",
};
const responseView = { status: 200, headers: { "content-type": "application/json", "content-length": "1024" } };
/** An http record as tapline captures the benchmark's exchange (about 1.9 KB of JSON). */
const record = {
  type: "http",
  v: 1,
  id: requestView.id,
  route_name: "bench",
  timestamp: "2026-11-21T03:50:26.996Z",
  duration_ms: 0.4,
  ttfb_request_ms: 0.1,
  ttfb_response_ms: 0.3,
  client_ip: "127.0.0.1:48400",
  upstream: "http://127.0.0.1:18481",
  request: {
    method: "GET",
    url: "/1k.json",
    headers: {
      Host: ["127.0.0.1:18480"],
      "User-Agent": ["wrk"],
      Accept: ["*/*"],
      Authorization: [requestView.headers.authorization],
      Cookie: [requestView.headers.cookie],
    },
    body_size: 0,
  },
  response: {
    status: 200,
    status_text: "OK",
    headers: { "Content-Type": ["application/json"], "Content-Length": ["1024"] },
    body_size: 1024,
    body,
  },
};
const REDACTION = { headers: ["authorization", "cookie"], patterns: ["email", "bearer", "jwt", "credit_card"] };

async function sandbox(source: string, config?: unknown): Promise<PluginSandbox> {
  const s = await PluginSandbox.load({
    source,
    fileName: "plugin.js",
    memory: 64 * 1024 * 1024,
    loadMs: 1000,
    host: { emit() {}, log() {} },
  });
  if (config !== undefined) {
    const out = s.setup(JSON.stringify(config), 1000);
    if (!out.ok) throw new Error(`setup failed: ${out.message}`);
    readsOf.set(s, Reads.parse((out.value as { reads?: string[] } | undefined)?.reads));
  }
  return s;
}

/** What each plugin's setup said it reads: the chain passes only that. */
const readsOf = new WeakMap<PluginSandbox, Reads>();

function bundled(name: string): string {
  return readFileSync(join(root, "plugins", name, "plugin.js"), "utf8");
}

function noop(hook: string, body: string): string {
  return `export const manifest = {name: "noop", version: "1", description: "d", hooks: ["${hook}"]};
export function ${hook}(x) { ${body} }`;
}

/**
 * Mean µs per call over `calls` calls, after a second of warm-up calls
 * (each sandbox has its own WebAssembly instance, which V8 tiers up lazily).
 */
function time(label: string, s: PluginSandbox, hook: "onRequest" | "onResponseBody" | "onCapture", args: unknown[]) {
  // As the chain passes them (src/plugins/chain.ts, hook-args.ts): only what the plugin reads, bodies lifted out of
  // the JSON or left on the host, the record and the body held for host.record and host.text.
  const reads = readsOf.get(s) ?? Reads.ALL;
  const crossing = hook === "onCapture" && args.length === 1
    ? recordArgs(reads, args[0] as object)
    : hook === "onResponseBody"
    ? bodyArgs(
      reads.reads("response.body") ? args[0] as string : null,
      `${JSON.stringify(reads.view("response", args[1] as object))},${
        JSON.stringify(reads.view("request", args[2] as object))
      }`,
    )
    : {
      json: JSON.stringify(hook === "onRequest" ? args.map((a) => reads.view("request", a as object)) : args),
      lifted: undefined,
    };
  const { json, lifted } = crossing;
  const once = () =>
    s.call(hook, json, 1000, {
      lifted,
      records: hook === "onCapture" ? [{ record: args[0] as Record<string, unknown> }] : undefined,
      text: hook === "onResponseBody" ? { text: args[0] as string } : undefined,
    });
  for (const until = performance.now() + 1000; performance.now() < until;) once();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    const out = once();
    if (!out.ok) throw new Error(`${label}: ${out.message}`);
  }
  const us = ((performance.now() - t0) * 1000) / calls;
  process.stdout.write(`| ${label} | ${us.toFixed(1)} |\n`);
}

/** Mean µs per record of onCaptureBatch over batches of CAPTURE_BATCH records, as the chain passes them. */
function timeBatch(label: string, s: PluginSandbox) {
  const reads = readsOf.get(s) ?? Reads.ALL;
  const records = Array.from({ length: CAPTURE_BATCH }, () => structuredClone(record) as Record<string, unknown>);
  const { json, lifted } = recordsArgs(reads, records);
  const once = () => s.call("onCaptureBatch", json, 1000, { lifted, records: records.map((r) => ({ record: r })) });
  for (const until = performance.now() + 1000; performance.now() < until;) once();
  const batches = Math.max(1, Math.round(calls / CAPTURE_BATCH));
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) {
    const out = once();
    if (!out.ok) throw new Error(`${label}: ${out.message}`);
  }
  const us = ((performance.now() - t0) * 1000) / (batches * CAPTURE_BATCH);
  process.stdout.write(`| ${label} | ${us.toFixed(1)} |\n`);
}

process.stdout.write(`| call (${calls} each) | µs/call |\n|---|--:|\n`);
time("no-op onRequest, no arguments", await sandbox(noop("onRequest", "")), "onRequest", []);
time("no-op onRequest(RequestView)", await sandbox(noop("onRequest", "")), "onRequest", [requestView]);
time(
  "path-filter onRequest (bench config)",
  await sandbox(bundled("path-filter"), { include: ["^/"], methods: ["GET"] }),
  "onRequest",
  [requestView],
);
time(
  "text-replace onResponseBody, 1 KiB body (bench config)",
  await sandbox(bundled("text-replace"), {
    rules: [{ match: "benchmark", replace: "bench-mark", in: ["response.body"], content_types: ["application/json"] }],
  }),
  "onResponseBody",
  [body, responseView, requestView],
);
time("no-op onCapture(record): the record crossing in", await sandbox(noop("onCapture", "")), "onCapture", [record]);
time(
  "onCapture returning the record: crossing in and out",
  await sandbox(noop("onCapture", "return x;")),
  "onCapture",
  [record],
);
time(
  "redaction onCapture, headers only (patterns: [])",
  await sandbox(bundled("redaction"), { ...REDACTION, patterns: [] }),
  "onCapture",
  [record],
);
time(
  "redaction onCapture, headers + email",
  await sandbox(bundled("redaction"), { ...REDACTION, patterns: ["email"] }),
  "onCapture",
  [record],
);
time("redaction onCapture (bench config)", await sandbox(bundled("redaction"), REDACTION), "onCapture", [record]);
timeBatch(
  `redaction onCaptureBatch (bench config), per record in batches of ${CAPTURE_BATCH}`,
  await sandbox(bundled("redaction"), REDACTION),
);
timeBatch(
  `no-op onCaptureBatch(records), per record in batches of ${CAPTURE_BATCH}`,
  await sandbox(noop("onCaptureBatch", "")),
);
const email = new RegExp(
  "(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}(?![A-Za-z0-9-])",
  "g",
);
time(
  "QuickJS: the email pattern replacing over the 1 KiB body, nothing crossing",
  await sandbox(
    noop("onCapture", `return void B.replace(E, "[REDACTED:email]");`).replace(
      "export function",
      `const B = ${JSON.stringify(body)}; const E = ${email.toString()};\nexport function`,
    ),
  ),
  "onCapture",
  [],
);
{
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) body.replace(email, "[REDACTED:email]");
  process.stdout.write(`| V8 (host): the same replace | ${(((performance.now() - t0) * 1000) / calls).toFixed(1)} |\n`);
}
process.exit(0);
