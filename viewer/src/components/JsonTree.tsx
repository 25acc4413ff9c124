/**
 * A JSON value as a foldable tree (`<details>`), first two levels open.
 * Keys and values are text nodes: captured JSON cannot inject markup.
 */
import type { ComponentChildren } from "preact";

/** Nodes drawn at most; beyond this the body is shown as text instead. */
export const MAX_NODES = 4000;

export function countNodes(value: unknown, limit = MAX_NODES): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= limit) {
    const next = stack.pop();
    count++;
    if (next !== null && typeof next === "object") stack.push(...Object.values(next as object));
  }
  return count;
}

export function JsonTree(props: { value: unknown; name?: string; depth?: number }): ComponentChildren {
  const { value, name } = props;
  const depth = props.depth ?? 0;
  const label = name === undefined ? null : <span class="json-key">{`${JSON.stringify(name)}: `}</span>;
  if (value === null || typeof value !== "object") {
    return (
      <div class="json-leaf">
        {label}
        <span class={`json-${value === null ? "null" : typeof value}`}>{JSON.stringify(value)}</span>
      </div>
    );
  }
  const entries = Array.isArray(value)
    ? value.map((item, index) => [String(index), item] as const)
    : Object.entries(value as Record<string, unknown>);
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) {
    return (
      <div class="json-leaf">
        {label}
        <span>{`${open}${close}`}</span>
      </div>
    );
  }
  return (
    <details class="json-node" open={depth < 2}>
      <summary>
        {label}
        <span>{`${open} ${entries.length} ${Array.isArray(value) ? "items" : "keys"} ${close}`}</span>
      </summary>
      <div class="json-children">
        {entries.map(([key, item]) => (
          <JsonTree key={key} value={item} depth={depth + 1} {...(Array.isArray(value) ? {} : { name: key })} />
        ))}
      </div>
    </details>
  );
}
