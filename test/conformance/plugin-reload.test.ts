/**
 * Hot reload through the admin API on a real tapline: build, then swap, then
 * save; in-flight traffic keeps the set it began with; a bad set changes
 * nothing; stale writes are refused; the saved set survives a restart.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Agent } from "node:http";
import { request } from "./harness/client.ts";
import { tearDown, tempDir } from "./harness/fixture.ts";
import { adminArgs, adminToken, metric, metricsText, writeConfig, writePlugins } from "./harness/plugin-config.ts";
import { readRecords } from "./harness/records.ts";
import { runtimes } from "./harness/runtimes.ts";
import { runTapline, startTapline, type Tapline } from "./harness/tapline.ts";
import { startUpstream, type Upstream } from "./harness/upstream.ts";

const T = { timeout: 90_000 };

/** A plugin tagging every http record with the set it belongs to. */
const tagger = (set: string) =>
  `export function onCapture(r) { return r.type === "http" ? { ...r, tags: { set: ${JSON.stringify(set)} } } : r; }\n` +
  `export const manifest = { name: "tag-${set}", version: "1.0.0", description: "tags", hooks: ["onCapture"] };\n`;

const SET_A = { plugins: [{ id: "tag", use: "./tag-a.js" }] };
const SET_B = { plugins: [{ id: "tag", use: "./tag-b.js" }] };

for (const runtime of runtimes) {
  describe(`${runtime}: plugin reload through the admin API`, { timeout: 300_000 }, () => {
    let up: Upstream;
    let tap: Tapline;
    let dir: string;
    let config: string;
    const admin = (path: string) => `http://127.0.0.1:${tap.adminPort()}${path}`;
    const token = () => adminToken(dir);
    const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await request(admin(path), {
        method,
        headers: { "content-type": "application/json", authorization: `Bearer ${token()}`, ...headers },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
        timeoutMs: 20_000,
      });
      const text = res.body.toString("utf8");
      return {
        status: res.status,
        etag: res.headers["etag"],
        json: text ? JSON.parse(text) as Record<string, unknown> : {},
      };
    };
    const start = () =>
      startTapline(runtime, [
        "--config",
        config,
        ...adminArgs(dir),
        "--proxy",
        `name=api,listen_http=127.0.0.1:0,upstream=${up.url},log_jsonl=${dir}/`,
      ], { cwd: dir });

    before(async () => {
      up = await startUpstream("u1");
      dir = tempDir();
      writePlugins(dir, { "tag-a.js": tagger("a"), "tag-b.js": tagger("b") });
      writePlugins(dir, {
        "broken.js": "export function onCapture(r) { return ;;; }}}\n",
        "setup-throws.js":
          "export function setup() { throw new Error('setup says no'); }\nexport function onCapture(r) {}\n",
        "setup-loops.js": "export function setup() { for (;;) {} }\nexport function onCapture(r) {}\n",
      });
      config = writeConfig(dir, "tapline.yaml", SET_A);
      tap = await start();
    });

    after(() => tearDown(tap, [up], dir));

    test("the plugin routes need an admin token", T, async () => {
      const anonymous = await request(admin("/api/plugins"), { timeoutMs: 5_000 });
      assert.equal(anonymous.status, 401);
      const put = await request(admin("/api/plugins"), {
        method: "PUT",
        headers: { authorization: "Bearer wrong-token-wrong-token" },
        body: JSON.stringify(SET_B),
        timeoutMs: 5_000,
      });
      assert.equal(put.status, 401, "a wrong token changes nothing");
      assert.equal((await api("GET", "/api/plugins")).json["generation"], 1);
    });

    test("GET /api/plugins shows the running set with its generation as ETag", T, async () => {
      const { status, etag, json } = await api("GET", "/api/plugins");
      assert.equal(status, 200);
      assert.equal(etag, '"1"');
      assert.equal(json["generation"], 1);
      const [plugin] = json["plugins"] as Record<string, unknown>[];
      assert.equal(plugin?.["id"], "tag");
      assert.equal(plugin?.["name"], "tag-a");
      assert.match(String(plugin?.["sha256"]), /^[0-9a-f]{64}$/);
      assert.deepEqual(plugin?.["hooks"], ["onCapture"]);
    });

    test(
      "2,000 requests during 20 reloads: none fails, each record is tagged by the set of its generation",
      T,
      async () => {
        const agent = new Agent({ keepAlive: true, maxSockets: 4 });
        const first = (await api("GET", "/api/plugins")).json["generation"] as number;
        let sent = 0;
        let failed = 0;
        let reloading = true;
        const load = (async () => {
          const workers = Array.from({ length: 4 }, async () => {
            while (reloading || sent < 2000) {
              const n = sent++;
              const res = await request(tap.url("api", `/load?n=${n}`), { agent, timeoutMs: 15_000 }).catch(() =>
                undefined
              );
              if (res?.status !== 200) failed++;
            }
          });
          await Promise.all(workers);
        })();
        for (let i = 0; i < 20; i++) {
          const res = await api("PUT", "/api/plugins", i % 2 === 0 ? SET_B : SET_A);
          assert.equal(res.status, 200, JSON.stringify(res.json));
          assert.equal(res.json["generation"], first + i + 1);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        reloading = false;
        await load;
        agent.destroy();
        assert.equal(failed, 0, "no request failed during the reloads");
        let records = readRecords(join(dir, "api.jsonl")).filter((r) => r.request.url.startsWith("/load?"));
        for (let i = 0; i < 100 && records.length < sent; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          records = readRecords(join(dir, "api.jsonl")).filter((r) => r.request.url.startsWith("/load?"));
        }
        assert.equal(records.length, sent, "one record per request");
        const generations = new Set<number>();
        for (const record of records) {
          const generation = record.plugin_generation!;
          assert.ok(generation >= first && generation <= first + 20, `generation ${generation} was live`);
          // Generations alternate from set A: first + odd offsets ran set B.
          const expected = (generation - first) % 2 === 1 ? "b" : "a";
          assert.equal(record.tags?.["set"], expected, `record of generation ${generation} tagged by its set`);
          generations.add(generation);
        }
        assert.ok(generations.size > 2, `records span several generations (${[...generations].join(", ")})`);
        let text = await metricsText(tap);
        for (let i = 0; i < 50 && metric(text, "tapline_plugin_generations_live") !== 1; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          text = await metricsText(tap);
        }
        assert.equal(metric(text, "tapline_plugin_generations_live"), 1, "old sets are freed once idle");
        assert.equal(metric(text, "tapline_plugin_generation"), first + 20);
        assert.ok((metric(text, "tapline_plugin_reloads_total", "result=ok") ?? 0) >= 20);
      },
    );

    test("a bad set answers 422 with located problems and leaves the running set", T, async () => {
      const before = await api("GET", "/api/plugins");
      const saved = join(dir, "data", "plugins.runtime.yaml");
      const savedBefore = existsSync(saved) ? readFileSync(saved, "utf8") : undefined;
      const bad = [
        { plugins: [{ id: "x", use: "./broken.js" }] },
        { plugins: [{ id: "x", use: "./setup-throws.js" }] },
        { plugins: [{ id: "x", use: "./setup-loops.js", limits: { setup_ms: 200 } }] },
        { plugins: [{ id: "x", use: "redaction", config: { patterns: ["no-such-pattern"] } }] },
        "plugins:\n  - id: x\n    use: [unclosed\n",
      ];
      for (const body of bad) {
        const res = await api("PUT", "/api/plugins", body);
        assert.equal(res.status, 422, JSON.stringify(res.json));
        const problems = (res.json["error"] as { problems: Record<string, unknown>[] }).problems;
        assert.ok(problems.length > 0 && problems.every((p) => typeof p["message"] === "string"));
      }
      const yamlError = await api("PUT", "/api/plugins", "plugins:\n  - id: x\n    use: [unclosed\n");
      const problem = (yamlError.json["error"] as { problems: Record<string, unknown>[] }).problems[0]!;
      assert.equal(typeof problem["line"], "number", "a YAML error names its line");
      const configError = await api("PUT", "/api/plugins", bad[3]);
      const field = (configError.json["error"] as { problems: Record<string, unknown>[] }).problems[0]!;
      assert.equal(field["plugin"], "x");
      const after = await api("GET", "/api/plugins");
      assert.equal(after.json["generation"], before.json["generation"], "the running set stays");
      assert.equal(existsSync(saved) ? readFileSync(saved, "utf8") : undefined, savedBefore, "nothing was saved");
      assert.equal((await api("POST", "/api/plugins/validate", SET_B)).status, 200);
      assert.equal((await api("GET", "/api/plugins")).json["generation"], before.json["generation"]);
    });

    test("a write with a stale If-Match is refused with 412", T, async () => {
      const current = await api("GET", "/api/plugins");
      const stale = await api("PUT", "/api/plugins", SET_A, { "if-match": '"1"' });
      assert.equal(stale.status, 412);
      assert.equal(stale.etag, current.etag);
      const fresh = await api("PUT", "/api/plugins", SET_B, { "if-match": String(current.etag) });
      assert.equal(fresh.status, 200);
      assert.equal(fresh.json["persisted"], true);
    });

    test("the saved set runs after a restart; DELETE goes back to the config file's list", T, async () => {
      const running = await api("GET", "/api/plugins");
      assert.equal((running.json["plugins"] as Record<string, unknown>[])[0]?.["name"], "tag-b");
      const { code } = await tap.stop();
      assert.equal(code, 0);
      tap = await start();
      const restarted = await api("GET", "/api/plugins");
      assert.equal(restarted.json["generation"], 1);
      assert.equal((restarted.json["plugins"] as Record<string, unknown>[])[0]?.["name"], "tag-b", "saved set");
      assert.ok(tap.stderr.includes("plugins restored"), "start-up says the saved set was used");
      const reset = await api("DELETE", "/api/plugins");
      assert.equal(reset.status, 200);
      const back = await api("GET", "/api/plugins");
      assert.equal((back.json["plugins"] as Record<string, unknown>[])[0]?.["name"], "tag-a", "the config file's set");
      assert.equal(existsSync(join(dir, "data", "plugins.runtime.yaml")), false, "the saved set is forgotten");
    });

    test("PUT and DELETE of one plugin by id", T, async () => {
      const added = await api("PUT", "/api/plugins/extra", { use: "path-filter", config: { include: ["^/x"] } });
      assert.equal(added.status, 200, JSON.stringify(added.json));
      let ids = ((await api("GET", "/api/plugins")).json["plugins"] as Record<string, unknown>[]).map((p) => p["id"]);
      assert.deepEqual(ids, ["tag", "extra"]);
      assert.equal((await api("DELETE", "/api/plugins/nope")).status, 404);
      assert.equal((await api("DELETE", "/api/plugins/extra")).status, 200);
      ids = ((await api("GET", "/api/plugins")).json["plugins"] as Record<string, unknown>[]).map((p) => p["id"]);
      assert.deepEqual(ids, ["tag"]);
      const types = await api("GET", "/api/plugins/types");
      const names = (types.json["types"] as Record<string, unknown>[]).map((t) => t["name"]).sort();
      assert.deepEqual(names, ["path-filter", "redaction", "text-replace"]);
    });

    test("tapline plugins list, validate, apply and remove talk to the running tapline", T, async () => {
      const cli = (...args: string[]) =>
        runTapline(runtime, ["plugins", ...args, "--admin", `http://127.0.0.1:${tap.adminPort()}`], 30_000, {
          cwd: dir,
          // Without --token-file the command reads <data dir>/admin_token, where this tapline keeps it.
          env: { TAPLINE_DATA_DIR: join(dir, "data") },
        });
      const listed = await cli("list", "--json");
      assert.equal(listed.code, 0, listed.stderr);
      const generation = JSON.parse(listed.stdout).generation as number;
      const table = await cli("list");
      assert.match(table.stdout, new RegExp(`^Generation ${generation}, 1 plugin\n`));
      assert.match(table.stdout, /^tag +tag-a +1\.0\.0 +onCapture +open +all +running$/m);

      // A set in its own folder, naming its plugin by a path relative to that folder.
      mkdirSync(join(dir, "sets"), { recursive: true });
      writeFileSync(join(dir, "sets", "tag-c.js"), tagger("c"));
      writeFileSync(join(dir, "sets", "team.yaml"), "plugins:\n  - id: tag\n    use: ./tag-c.js\n");
      writeFileSync(
        join(dir, "sets", "bad.yaml"),
        "plugins:\n  - id: tag\n    use: redaction\n    config: { patterns: [nope] }\n",
      );
      const valid = await cli("validate", "sets/team.yaml");
      assert.equal(valid.code, 0, valid.stderr);
      assert.match(valid.stdout, /sets\/team\.yaml: valid/);
      const invalid = await cli("validate", "sets/bad.yaml");
      assert.equal(invalid.code, 78, invalid.stdout + invalid.stderr);
      assert.match(invalid.stderr, /sets\/bad\.yaml:4:/, "the problem names the user's file and line");
      const applied = await cli("apply", "sets/team.yaml");
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stdout, new RegExp(`generation ${generation + 1}`));
      assert.equal((await api("GET", "/api/plugins")).json["plugins"] instanceof Array, true);
      const names = ((await api("GET", "/api/plugins")).json["plugins"] as Record<string, unknown>[]).map((p) =>
        p["name"]
      );
      assert.deepEqual(names, ["tag-c"]);
      const removed = await cli("remove", "tag");
      assert.equal(removed.code, 0, removed.stderr);
      assert.equal(((await api("GET", "/api/plugins")).json["plugins"] as unknown[]).length, 0);
      const missing = await cli("remove", "tag");
      assert.equal(missing.code, 66);
      const unreachable = await runTapline(runtime, ["plugins", "list", "--admin", "http://127.0.0.1:9"], 30_000, {
        cwd: dir,
      });
      assert.equal(unreachable.code, 69);
      assert.match(unreachable.stderr, /cannot reach the admin API/);
    });

    test("SIGHUP reloads the plugins from their files; a broken edit is logged and changes nothing", T, async () => {
      assert.equal((await api("DELETE", "/api/plugins")).status, 200, "back to the config file's list");
      const before = (await api("GET", "/api/plugins")).json;
      const sha = (before["plugins"] as Record<string, unknown>[])[0]?.["sha256"];
      writePlugins(dir, { "tag-a.js": tagger("a2") });
      tap.child.kill("SIGHUP");
      await tap.waitForLog((line) => line.msg === "plugins reloaded from files", 10_000, "the reload");
      const after = (await api("GET", "/api/plugins")).json;
      assert.equal(after["generation"], (before["generation"] as number) + 1);
      const plugin = (after["plugins"] as Record<string, unknown>[])[0]!;
      assert.equal(plugin["name"], "tag-a2");
      assert.notEqual(plugin["sha256"], sha, "the new source's hash");

      writePlugins(dir, { "tag-a.js": "export function onCapture(r) { return ;;; }}}\n" });
      tap.child.kill("SIGHUP");
      const rejected = await tap.waitForLog(
        (line) => /reload from files rejected/.test(String(line.msg)),
        10_000,
        "rejection",
      );
      assert.match(JSON.stringify(rejected), /tag-a\.js/, "the log names the broken file");
      assert.equal((await api("GET", "/api/plugins")).json["generation"], after["generation"], "the running set stays");
      writePlugins(dir, { "tag-a.js": tagger("a") });
    });
  });
}
