export const manifest = {
  name: "tag-slow",
  version: "1.0.0",
  description: "Tags exchanges slower than a threshold, reports each one, and can mark responses with a header",
  hooks: ["onResponse", "onCapture"],
  config_schema: {
    type: "object",
    additionalProperties: false,
    properties: {
      threshold_ms: { type: "number", minimum: 0 },
      header: { type: "boolean" },
    },
  },
  fail: "open",
};

let threshold = 500;

export function setup(config) {
  threshold = config.threshold_ms ?? 500;
  // Without `header: true` the host never calls onResponse: no cost on the forwarding path.
  return { hooks: config.header ? ["onResponse", "onCapture"] : ["onCapture"] };
}

export function onResponse(_res, req) {
  return { headers: { "x-tapline-route": req.route } };
}

export function onCapture(record) {
  if (record.type !== "http" || record.duration_ms < threshold) return undefined; // unchanged
  emit({ url: record.request.url, status: record.response?.status ?? null, duration_ms: record.duration_ms });
  log("info", `slow exchange ${record.request.method} ${record.request.url}`);
  record.tags = { ...record.tags, slow: true };
  return record;
}
