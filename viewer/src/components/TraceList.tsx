/**
 * The traces, newest first: the first page from `/api/traces`, older pages as
 * the end of the table scrolls into view (the API's cursor), and new traces
 * live from `/api/tail` until paused. Keys: j/k move, Enter opens, / searches.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, getJson, query, request } from "../api.ts";
import { download } from "../body.ts";
import { readEvents } from "../event-stream.ts";
import { formatBytes, formatDuration, formatTime, statusClass } from "../format.ts";
import { go } from "../route.ts";
import { mergeSummaries, rowOf, type TraceSummary } from "../summary.ts";
import type { CaptureRecord } from "../../../src/shared/record.ts";
import { FilterBox } from "./FilterBox.tsx";
import { isTyping } from "../keys.ts";

interface Page {
  traces: TraceSummary[];
  next_cursor: string | null;
}

/** Rows kept in the page at most; older ones are dropped from the top of memory, not from the captures. */
const MAX_ROWS = 5000;
const PAGE = 100;

export function TraceList(props: { filter: string; onFilter: (filter: string) => void }) {
  const [rows, setRows] = useState<TraceSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [live, setLive] = useState(true);
  const [liveState, setLiveState] = useState("");
  const [selected, setSelected] = useState(0);
  const [exporting, setExporting] = useState(false);
  const sentinel = useRef<HTMLDivElement>(null);
  const loadingMore = useRef(false);
  const lastEvent = useRef<{ filter: string; id: string } | null>(null);
  /** The latest rows the tail brought, for a page answered after them (PAGE at most: a page holds no more). */
  const tailed = useRef<{ filter: string; rows: TraceSummary[] }>({ filter: props.filter, rows: [] });
  const [reloads, setReloads] = useState(0);

  // The first page, again whenever the filter changes. It is merged with the rows the tail brought, never put in
  // their place: the page may have been read before a row the tail delivered reached the files.
  useEffect(() => {
    let stale = false;
    setLoading(true);
    setError(undefined);
    getJson<Page>(`/api/traces${query({ q: props.filter, limit: PAGE })}`)
      .then((page) => {
        if (stale) return;
        const fromTail = tailed.current.filter === props.filter ? tailed.current.rows : [];
        setRows(mergeSummaries(fromTail, page.traces, MAX_ROWS));
        setCursor(page.next_cursor);
        setSelected(0);
      })
      .catch((caught) => !stale && (setRows([]), setCursor(null), setError(asApiError(caught))))
      .finally(() => !stale && setLoading(false));
    return () => {
      stale = true;
    };
  }, [props.filter, reloads]);

  // New traces as they are captured, while live. A resume (after a pause or a lost connection) sends the last
  // record's id as Last-Event-ID, so the tail replays what passed meanwhile; when it cannot (`gap`) or the page fell
  // behind (`dropped`), the first page is read again.
  useEffect(() => {
    if (!live) return setLiveState("paused");
    setLiveState("connecting");
    const controller = new AbortController();
    const follow = async () => {
      while (!controller.signal.aborted) {
        try {
          const last = lastEvent.current;
          const headers: Record<string, string> = last?.filter === props.filter ? { "Last-Event-ID": last.id } : {};
          // When it cannot resume, the tail first sends the newest PAGE records (`backlog`): those published but not
          // yet in the files the first page was read from.
          await readEvents(`/api/tail${query({ q: props.filter, backlog: PAGE })}`, controller.signal, (event) => {
            // Live only once the server's subscription is in place; its id is where it starts, so a reconnect
            // before the first record still replays what passed meanwhile.
            if (event.event === "ready") {
              if (event.id) lastEvent.current = { filter: props.filter, id: event.id };
              return setLiveState("live");
            }
            if (event.event === "gap" || event.event === "dropped") return setReloads((count) => count + 1);
            if (event.event !== undefined && event.event !== "message") return;
            if (event.id !== undefined) lastEvent.current = { filter: props.filter, id: event.id };
            const row = rowOf(JSON.parse(event.data) as CaptureRecord);
            if (!row) return;
            const kept = tailed.current.filter === props.filter ? tailed.current.rows : [];
            tailed.current = { filter: props.filter, rows: [row, ...kept].slice(0, PAGE) };
            setRows((current) => [row, ...current.filter((old) => old.id !== row.id)].slice(0, MAX_ROWS));
          }, headers);
        } catch (caught) {
          if (controller.signal.aborted) return;
          // A bad filter is shown by the list's own request; anything else is retried.
          if (caught instanceof ApiError && caught.status < 500) return setLiveState("stopped");
        }
        setLiveState("reconnecting");
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    };
    void follow();
    return () => controller.abort();
  }, [props.filter, live]);

  // Older pages when the end of the table is in view.
  useEffect(() => {
    const end = sentinel.current;
    if (!end || cursor === null) return;
    const observer = new IntersectionObserver((entries) => {
      if (!entries.some((entry) => entry.isIntersecting) || loadingMore.current) return;
      loadingMore.current = true;
      getJson<Page>(`/api/traces${query({ q: props.filter, limit: PAGE, cursor })}`)
        .then((page) => {
          setRows((current) => {
            const seen = new Set(current.map((row) => row.id));
            return [...current, ...page.traces.filter((row) => !seen.has(row.id))].slice(0, MAX_ROWS);
          });
          setCursor(page.next_cursor);
        })
        .catch((caught) => setError(asApiError(caught)))
        .finally(() => (loadingMore.current = false));
    });
    observer.observe(end);
    return () => observer.disconnect();
  }, [cursor, props.filter]);

  // j/k/Enter on the list.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (isTyping(event) || event.metaKey || event.ctrlKey || event.altKey) return;
      if (event.key === "j") setSelected((index) => Math.min(index + 1, Math.max(rows.length - 1, 0)));
      else if (event.key === "k") setSelected((index) => Math.max(index - 1, 0));
      else if (event.key === "Enter" && rows[selected]) go({ page: "trace", id: rows[selected]!.id });
      else return;
      event.preventDefault();
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [rows, selected]);

  useEffect(() => {
    document.querySelector("tr.selected")?.scrollIntoView({ block: "nearest" });
  }, [selected]);

  const exportHar = async () => {
    setExporting(true);
    try {
      const response = await request(`/api/export${query({ format: "har", q: props.filter })}`);
      download(await response.blob(), "tapline.har", "application/json");
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setExporting(false);
    }
  };

  return (
    <main class="list">
      <div class="tools">
        <FilterBox
          value={props.filter}
          error={error?.code.startsWith("filter") ? error : undefined}
          onApply={props.onFilter}
        />
        <button type="button" id="live" onClick={() => setLive(!live)} aria-pressed={live}>
          {live ? "Pause" : "Resume"}
        </button>
        <span class={`live ${liveState}`} id="live-state">{liveState}</span>
        <button type="button" id="export-har" onClick={exportHar} disabled={exporting}>Download HAR</button>
      </div>
      {error && !error.code.startsWith("filter") && <p class="error" role="alert">{error.message}</p>}
      <div class="table-wrap">
        <table class="traces">
          <thead>
            <tr>
              <th>Time</th>
              <th>Route</th>
              <th>Method</th>
              <th class="url">URL</th>
              <th>Status</th>
              <th class="num">Duration</th>
              <th class="num">Req</th>
              <th class="num">Resp</th>
              <th>Type</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => (
              <tr
                key={row.id}
                data-id={row.id}
                class={index === selected ? "selected" : ""}
                onClick={() => go({ page: "trace", id: row.id })}
              >
                <td class="time">{formatTime(row.time)}</td>
                <td>{row.route}</td>
                <td>{row.method ?? ""}</td>
                <td class="url" title={row.url ?? row.plugin ?? ""}>
                  <a href={`#/trace/${encodeURIComponent(row.id)}`}>{row.url ?? `custom record of ${row.plugin}`}</a>
                </td>
                <td class={`status ${statusClass(row.status)}`}>
                  {row.type === "custom" ? "" : String(row.status ?? "")}
                </td>
                <td class="num">{formatDuration(row.duration_ms)}</td>
                <td class="num">{formatBytes(row.request_size)}</td>
                <td class="num">{formatBytes(row.response_size)}</td>
                <td class="type">{row.type}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {!loading && rows.length === 0 && !error && <p class="empty">No captured traces match.</p>}
        <div ref={sentinel} class="sentinel">
          {loading ? "Loading…" : cursor === null ? "" : "Loading older traces…"}
        </div>
      </div>
    </main>
  );
}

function asApiError(caught: unknown): ApiError {
  return caught instanceof ApiError
    ? caught
    : new ApiError(0, "network", `Could not reach the admin API: ${String(caught)}`);
}
