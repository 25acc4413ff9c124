/**
 * One trace in full: its exchange (heads, bodies, timing), and what belongs
 * to it: WebSocket frames, Server-Sent Events, plugins' custom records.
 * Escape goes back to the list.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError, getJson, query } from "../api.ts";
import { curlCommand } from "../curl.ts";
import { formatDuration, formatTime, statusClass } from "../format.ts";
import { isTyping } from "../keys.ts";
import { go } from "../route.ts";
import type {
  CaptureRecord,
  CustomRecord,
  HeaderMap,
  HttpRecord,
  SseEventRecord,
  WebSocketFrameRecord,
} from "../../../src/shared/record.ts";
import { BodyPanel } from "./BodyPanel.tsx";
import { EventTimeline } from "./EventTimeline.tsx";
import { FrameList } from "./FrameList.tsx";
import { JsonTree } from "./JsonTree.tsx";
import { TimingBar } from "./TimingBar.tsx";

interface Related<T> {
  items: T[];
  total: number;
  next_offset: number | null;
}

export interface Detail {
  record: CaptureRecord;
  frames: Related<WebSocketFrameRecord>;
  events: Related<SseEventRecord>;
  custom: Related<CustomRecord>;
}

const RELATED_PAGE = 1000;

export function TraceView(props: { id: string }) {
  const [detail, setDetail] = useState<Detail | undefined>(undefined);
  const [error, setError] = useState("");

  useEffect(() => {
    let stale = false;
    setDetail(undefined);
    setError("");
    getJson<Detail>(`/api/traces/${encodeURIComponent(props.id)}${query({ limit: RELATED_PAGE })}`)
      .then((found) => !stale && setDetail(found))
      .catch((caught) => !stale && setError(caught instanceof ApiError ? caught.message : String(caught)));
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape" && !isTyping(event)) go({ page: "list" });
    };
    addEventListener("keydown", onKey);
    return () => {
      stale = true;
      removeEventListener("keydown", onKey);
    };
  }, [props.id]);

  /** The next page of frames, events or custom records. */
  const more = async (kind: "frames" | "events" | "custom") => {
    if (!detail || detail[kind].next_offset === null) return;
    const page = await getJson<Detail>(
      `/api/traces/${encodeURIComponent(props.id)}${query({ offset: detail[kind].next_offset, limit: RELATED_PAGE })}`,
    );
    setDetail({ ...detail, [kind]: { ...page[kind], items: [...detail[kind].items, ...page[kind].items] } });
  };

  if (error) {
    return (
      <main class="detail">
        <a href="#/" class="back">← Traces</a>
        <p class="error" role="alert">{error}</p>
      </main>
    );
  }
  if (!detail) {
    return (
      <main class="detail">
        <p class="muted">Loading…</p>
      </main>
    );
  }
  const record = detail.record;
  return (
    <main class="detail" id="detail">
      <a href="#/" class="back">← Traces (Esc)</a>
      {record.type === "http"
        ? <Exchange record={record} detail={detail} more={more} />
        : <OtherRecord record={record} />}
      {detail.custom.total > 0 && (
        <section class="custom">
          <h2>{`Custom records (${detail.custom.total})`}</h2>
          {detail.custom.items.map((custom) => (
            <div key={custom.id} class="custom-record">
              <div class="meta">{`${formatTime(custom.timestamp)} · plugin ${custom.plugin}`}</div>
              <div class="json">
                <JsonTree value={custom.data} />
              </div>
            </div>
          ))}
          {detail.custom.next_offset !== null && <button type="button" onClick={() => more("custom")}>More</button>}
        </section>
      )}
    </main>
  );
}

function Exchange(props: { record: HttpRecord; detail: Detail; more: (kind: "frames" | "events") => void }) {
  const { record, detail } = props;
  const [curl, setCurl] = useState("");
  const copyCurl = async () => {
    const command = curlCommand(record);
    setCurl(command);
    try {
      await navigator.clipboard.writeText(command);
    } catch {
      // No clipboard permission: the command is shown to select by hand.
    }
  };
  const response = record.response;
  return (
    <>
      <h1 class="title">
        <span class="method">{record.request.method}</span>
        <span class="url">{record.request.url}</span>
        <span class={`status ${statusClass(response?.status)}`}>
          {response ? `${response.status} ${response.status_text}` : "no response"}
        </span>
      </h1>
      <dl class="facts">
        <dt>Time</dt>
        <dd>{record.timestamp}</dd>
        <dt>Route</dt>
        <dd>{record.route_name}</dd>
        <dt>Client</dt>
        <dd>{record.client_ip}</dd>
        <dt>Upstream</dt>
        <dd>{record.upstream}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(record.duration_ms)}</dd>
        {record.correlation_id !== undefined && (
          <>
            <dt>Correlation</dt>
            <dd>{record.correlation_id}</dd>
          </>
        )}
        {record.plugin_generation !== undefined && (
          <>
            <dt>Plugin generation</dt>
            <dd id="plugin-generation">{String(record.plugin_generation)}</dd>
          </>
        )}
        {record.error !== undefined && (
          <>
            <dt>Error</dt>
            <dd class="error">{record.error}</dd>
          </>
        )}
        {record.disconnected && (
          <>
            <dt>Client</dt>
            <dd>went away before the response ended</dd>
          </>
        )}
        <dt>Id</dt>
        <dd class="mono">{record.id}</dd>
      </dl>
      {record.tags !== undefined && (
        <section class="tags">
          <h2>Tags</h2>
          <div class="json">
            <JsonTree value={record.tags} />
          </div>
        </section>
      )}
      <TimingBar record={record} />
      <div class="actions">
        <button type="button" id="copy-curl" onClick={copyCurl}>Copy as curl</button>
      </div>
      {curl && <pre class="curl" id="curl-command">{curl}</pre>}
      <div class="sides">
        <section class="side request">
          <h2>Request</h2>
          <Headers headers={record.request.headers} />
          <BodyPanel part={record.request} headers={record.request.headers} name="request" />
        </section>
        <section class="side response">
          <h2>Response</h2>
          {response
            ? (
              <>
                <Headers headers={response.headers} />
                <BodyPanel part={response} headers={response.headers} name="response" />
              </>
            )
            : <p class="muted">No response</p>}
        </section>
      </div>
      {(detail.frames.total > 0 || response?.status === 101) && (
        <FrameList
          page={detail.frames}
          more={() => props.more("frames")}
        />
      )}
      {record.sse_events !== undefined && record.sse_events >= 0 && (
        <EventTimeline
          id={record.id}
          page={detail.events}
          more={() => props.more("events")}
        />
      )}
    </>
  );
}

function Headers(props: { headers: HeaderMap }) {
  const entries = Object.entries(props.headers);
  if (entries.length === 0) return <p class="muted">No headers</p>;
  return (
    <table class="headers">
      <tbody>
        {entries.flatMap(([name, values]) =>
          values.map((value, index) => (
            <tr key={`${name}:${index}`}>
              <th>{name}</th>
              <td>{value}</td>
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

/** A custom record that belongs to no exchange. */
function OtherRecord(props: { record: CaptureRecord }) {
  const record = props.record;
  return (
    <>
      <h1 class="title">{record.type === "custom" ? `Custom record of ${record.plugin}` : record.type}</h1>
      <dl class="facts">
        <dt>Time</dt>
        <dd>{record.timestamp}</dd>
        <dt>Route</dt>
        <dd>{record.route_name}</dd>
        <dt>Id</dt>
        <dd class="mono">{record.id}</dd>
      </dl>
      <div class="json">
        <JsonTree value={record.type === "custom" ? record.data : record} />
      </div>
    </>
  );
}
