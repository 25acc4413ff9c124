/**
 * Single binaries. `npm run build:binary` (bun build --compile) makes one
 * file that forwards, captures, serves the admin API and the viewer, loads a
 * bundled plugin, and exports Parquet with nothing beside it. `deno compile`
 * cannot download its runtime here; with DENORT_BIN pointing at the deno
 * binary from node_modules it still resolves and embeds the whole module
 * graph (npm packages and WASM included), which is what this checks: the
 * output of that trick is not runnable (it is deno itself), so only the
 * compile step is tested.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "./harness/client.ts";
import { removeDir, sleep, tempDir } from "./harness/fixture.ts";
import { repoRoot } from "./harness/runtimes.ts";
import { startUpstream, type Upstream } from "./harness/upstream.ts";

const T = { timeout: 180_000 };

describe("single binary (bun build --compile)", { timeout: 300_000 }, () => {
  let dir = "";
  let binary = "";
  let up: Upstream;

  before(async () => {
    dir = tempDir("tapline-binary-");
    binary = join(dir, "tapline");
    execFileSync(process.execPath, [join(repoRoot, "scripts", "build-binary.js"), "--out", binary], {
      cwd: repoRoot,
      stdio: "pipe",
    });
    up = await startUpstream("binary");
  });
  after(async () => {
    await up?.close();
    removeDir(dir);
  });

  test("--print-systemd run from the binary starts the binary itself", T, () => {
    const result = spawnSync(binary, ["--print-systemd", "--proxy", "name=a,listen_http=:8080,upstream=http://x"], {
      encoding: "utf8",
      cwd: dir,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      new RegExp(`^ExecStart=${binary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} --proxy `, "m"),
    );
  });

  test("--version names the build", T, () => {
    const result = spawnSync(binary, ["--version"], { encoding: "utf8", cwd: dir });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^tapline \d+\.\d+\.\d+ \(bun \d+\.\d+/);
  });

  test(
    "run from an empty folder: forwards, captures, admin API and viewer, a bundled plugin, Parquet export",
    T,
    async () => {
      const work = join(dir, "work");
      const config = join(dir, "tapline.yaml");
      writeFileSync(
        config,
        JSON.stringify({
          listen_admin: "127.0.0.1:0",
          proxies: [{ name: "api", listen_http: "127.0.0.1:0", upstream: up.url, log_jsonl: "./api.jsonl" }],
          plugins: [{ id: "scrub", use: "redaction", config: { headers: ["authorization"] } }],
        }),
      );
      mkdirSync(work, { recursive: true });
      const child = spawn(binary, ["--config", config, "--data-dir", "./data", "--flush-interval", "20ms"], {
        cwd: work,
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (text: string) => (stderr += text));
      try {
        for (let i = 0; i < 200 && !stderr.includes('"msg":"ready"'); i++) await sleep(50);
        assert.match(stderr, /"msg":"ready"/, stderr);
        const port = (kind: string) =>
          Number(new RegExp(`"kind":"${kind}".*?"address":"[^"]*:(\\d+)"`).exec(stderr)![1]);
        const res = await request(`http://127.0.0.1:${port("proxy")}/hello`, {
          headers: { authorization: "Bearer s3cret" },
        });
        assert.equal(res.status, 200);
        const viewer = await request(`http://127.0.0.1:${port("admin")}/ui/`);
        assert.equal(viewer.status, 200);
        assert.match(viewer.body.toString("utf8"), /assets\/viewer\.js/);
        let line = "";
        for (let i = 0; i < 100 && line === ""; i++) {
          try {
            line = readFileSync(join(work, "api.jsonl"), "utf8").split("\n")[0] ?? "";
          } catch {
            // Not written yet.
          }
          if (line === "") await sleep(50);
        }
        const record = JSON.parse(line) as { request: { url: string; headers: Record<string, string[]> } };
        assert.equal(record.request.url, "/hello");
        const authorization = Object.entries(record.request.headers).find(([name]) =>
          name.toLowerCase() === "authorization"
        );
        assert.deepEqual(authorization?.[1], ["[REDACTED]"], "the bundled redaction plugin ran inside the binary");
        assert.ok(
          statSync(join(work, "data", "admin_token")).size > 0,
          "the data dir is relative to the working directory",
        );
      } finally {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("close", resolve));
      }
      assert.match(stderr, /"msg":"stopped"/);
      const exported = spawnSync(binary, ["export", "--format", "parquet", "-o", "api.parquet", "api.jsonl"], {
        cwd: work,
        encoding: "utf8",
      });
      assert.equal(exported.status, 0, exported.stderr);
      assert.equal(readFileSync(join(work, "api.parquet")).subarray(0, 4).toString("latin1"), "PAR1");
    },
  );
});

describe("deno compile", { timeout: 300_000 }, () => {
  test(
    "with DENORT_BIN set to the local deno, the whole module graph compiles (npm packages and WASM resolved)",
    T,
    () => {
      const dir = tempDir("tapline-denoc-");
      const deno = join(repoRoot, "node_modules", ".bin", "deno");
      try {
        const result = spawnSync(deno, ["compile", "-A", "--output", join(dir, "tapline"), "src/cli/main.ts"], {
          cwd: repoRoot,
          encoding: "utf8",
          env: { ...process.env, DENORT_BIN: deno, NO_COLOR: "1" },
          timeout: 240_000,
        });
        assert.equal(result.status, 0, `deno compile failed:\n${result.stderr.slice(-3000)}`);
        assert.match(result.stderr + result.stdout, /Compile/);
        assert.ok(statSync(join(dir, "tapline")).size > 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
