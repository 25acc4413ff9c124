import assert from "node:assert/strict";
import { test } from "node:test";
import { renderHelp } from "../../../src/config/help.ts";
import { GLOBAL_OPTIONS } from "../../../src/config/options.ts";
import { PROXY_KEYS } from "../../../src/config/proxy.ts";

test("help lists every flag with its default, every proxy key and the runtimes", () => {
  const help = renderHelp();
  for (const option of GLOBAL_OPTIONS) {
    assert.ok(help.includes(`--${option.flag}`), option.flag);
    if (option.defaultText !== undefined) {
      const line = help.split("\n").find((l) => l.trimStart().startsWith(`--${option.flag}`));
      assert.ok(line?.includes(`(default ${option.defaultText})`), `${option.flag}: ${line}`);
    }
  }
  for (const key of PROXY_KEYS) assert.match(help, new RegExp(`^  ${key} `, "m"));
  for (
    const text of [
      "--proxy SPEC",
      "--config FILE",
      "--print-systemd",
      "--help",
      "--version",
      "TAPLINE_PROXY",
      "deno run -A src/cli/main.ts",
      "bun src/cli/main.ts",
      "defaults < YAML file (--config) < environment < flags",
    ]
  ) {
    assert.ok(help.includes(text), text);
  }
  assert.ok((help.match(/^ {2}tapline /gm) ?? []).length >= 5, "at least five examples");
});
