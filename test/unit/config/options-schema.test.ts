import assert from "node:assert/strict";
import { test } from "node:test";
import schema from "../../../schemas/config.schema.json" with { type: "json" };
import { GLOBAL_OPTIONS, yamlPathOf } from "../../../src/config/options.ts";

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  description?: string;
}

test("every option of the table has a described property in the schema at its YAML path", () => {
  for (const option of GLOBAL_OPTIONS) {
    let node: SchemaNode | undefined = schema as SchemaNode;
    for (const key of yamlPathOf(option)) node = node?.properties?.[key];
    assert.ok(
      node?.description,
      `schemas/config.schema.json has no ${yamlPathOf(option).join(".")} (--${option.flag})`,
    );
  }
  assert.deepEqual(yamlPathOf(GLOBAL_OPTIONS.find((o) => o.flag === "admin-token-file")!), ["admin", "token_file"]);
  assert.deepEqual(yamlPathOf(GLOBAL_OPTIONS.find((o) => o.flag === "data-dir")!), ["data_dir"]);
});
