/**
 * grpc-mask: masks fields of gRPC messages on the wire, in both directions,
 * through `payload_json` (tapline decodes each message with the
 * `--grpc-descriptors` of the config and encodes the changed JSON back).
 * Fields are proto3 JSON names, dotted for nested messages (`user.email`);
 * a list is masked item by item. Messages of methods the descriptors do not
 * describe pass unchanged.
 */
export const manifest = {
  name: "grpc-mask",
  version: "1.0.0",
  description: "Masks fields of gRPC messages in both directions, by their proto3 JSON names",
  hooks: ["onGrpcMessage"],
  config_schema: {
    type: "object",
    additionalProperties: false,
    required: ["fields"],
    properties: {
      fields: {
        description: "proto3 JSON field names, dotted for nested messages: user.email",
        type: "array",
        minItems: 1,
        items: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$" },
      },
      methods: {
        description: "Only calls of these methods (Service/Method or Method); default every method",
        type: "array",
        items: { type: "string", minLength: 1 },
      },
      mask: { description: "What a masked string becomes; default ***", type: "string" },
    },
  },
  fail: "open",
};

let paths = [];
let methods = null;
let mask = "***";

export function setup(config) {
  paths = config.fields.map((field) => field.split("."));
  methods = config.methods ? new Set(config.methods) : null;
  mask = config.mask ?? "***";
}

/** Masks the value at `path` under `node`; true when something changed. */
function maskAt(node, path) {
  if (node === null || typeof node !== "object") return false;
  if (Array.isArray(node)) return node.map((item) => maskAt(item, path)).some(Boolean);
  const [head, ...rest] = path;
  if (!(head in node)) return false;
  if (rest.length > 0) return maskAt(node[head], rest);
  const value = node[head];
  if (Array.isArray(value)) node[head] = value.map(() => mask);
  else if (typeof value === "string") node[head] = mask;
  else return false;
  return true;
}

export function onGrpcMessage(message, call) {
  if (message.payload_json === undefined) return undefined;
  if (methods && !methods.has(call.method) && !methods.has(`${call.service}/${call.method}`)) return undefined;
  const json = message.payload_json;
  let changed = false;
  for (const path of paths) changed = maskAt(json, path) || changed;
  return changed ? { payload_json: json } : undefined;
}
