/** One body: JSON as a tree, text wrapped, binary as size, hex preview and a download; flags for decoded and truncated bodies. */
import type { CapturedBody, HeaderMap } from "../../../src/shared/record.ts";
import { bodyView, download, hexPreview } from "../body.ts";
import { formatBytes } from "../format.ts";
import { countNodes, JsonTree, MAX_NODES } from "./JsonTree.tsx";

export function BodyPanel(props: { part: CapturedBody; headers: HeaderMap | undefined; name: string }) {
  const view = bodyView(props.part, props.headers);
  let content;
  switch (view.kind) {
    case "empty":
      content = <p class="muted">No body</p>;
      break;
    case "json":
      content = countNodes(view.json) > MAX_NODES
        ? <pre class="text">{JSON.stringify(view.json, null, 2)}</pre>
        : (
          <div class="json">
            <JsonTree value={view.json} />
          </div>
        );
      break;
    case "text":
      content = <pre class="text">{view.text}</pre>;
      break;
    case "binary":
      content = (
        <div class="binary">
          <p>
            {`Binary, ${formatBytes(view.bytes!.length)} captured `}
            <button
              type="button"
              onClick={() => download(view.bytes!, `${props.name}.bin`, "application/octet-stream")}
            >
              Download
            </button>
          </p>
          <pre class="hex">{hexPreview(view.bytes!)}</pre>
        </div>
      );
  }
  return (
    <div class={`body body-${view.kind}`} data-kind={view.kind}>
      <div class="body-head">
        <span>{`Body · ${formatBytes(view.wireSize)}`}</span>
        {view.decoded && <span class="flag decoded">decoded</span>}
        {view.truncated && <span class="flag truncated">{`truncated: ${formatBytes(view.wireSize)} on the wire`}</span>}
      </div>
      {content}
    </div>
  );
}
