/** A WebSocket connection's frames in both directions, with opcodes, sizes and close codes. */
import type { WebSocketFrameRecord } from "../../../src/shared/record.ts";
import { base64Bytes, hexPreview } from "../body.ts";
import { formatBytes, formatTime } from "../format.ts";

export function FrameList(
  props: { page: { items: WebSocketFrameRecord[]; total: number; next_offset: number | null }; more: () => void },
) {
  return (
    <section class="frames" id="frames">
      <h2>{`WebSocket frames (${props.page.total})`}</h2>
      <table>
        <thead>
          <tr>
            <th>Time</th>
            <th>Dir</th>
            <th>Opcode</th>
            <th class="num">Size</th>
            <th>Payload</th>
          </tr>
        </thead>
        <tbody>
          {props.page.items.map((frame) => (
            <tr key={frame.id} class={`frame ${frame.direction}`}>
              <td class="time">{formatTime(frame.timestamp)}</td>
              <td title={frame.direction}>{frame.direction === "client_to_server" ? "→ upstream" : "← client"}</td>
              <td class="opcode">{`${frame.opcode_name} (${frame.opcode})`}</td>
              <td class="num">{formatBytes(frame.payload_size)}</td>
              <td class="payload">
                {frame.close_code !== undefined
                  ? `close ${frame.close_code}${frame.close_reason ? ` ${frame.close_reason}` : ""}`
                  : frame.payload_base64
                  ? <pre class="hex">{hexPreview(base64Bytes(frame.payload ?? ""), 64)}</pre>
                  : frame.payload ?? ""}
                {frame.payload_truncated && <span class="flag truncated">truncated</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.page.next_offset !== null && <button type="button" onClick={props.more}>More frames</button>}
    </section>
  );
}
