/**
 * A Server-Sent Events stream: each event with its time since the response
 * head (`t_delta_ms`), and a replay that plays the captured stream again in
 * the page from `/api/traces/<id>/replay`, at its recorded pace or faster.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, query } from "../api.ts";
import { readEvents } from "../event-stream.ts";
import type { SseEventRecord } from "../../../src/shared/record.ts";

interface Replayed {
  event: string;
  data: string;
  at: number;
}

export function EventTimeline(
  props: { id: string; page: { items: SseEventRecord[]; total: number; next_offset: number | null }; more: () => void },
) {
  const [replayed, setReplayed] = useState<Replayed[] | undefined>(undefined);
  const [replayState, setReplayState] = useState("");
  const [speed, setSpeed] = useState("1");
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), [props.id]);

  const replay = async () => {
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    const started = performance.now();
    const received: Replayed[] = [];
    setReplayed([]);
    setReplayState("playing");
    try {
      await readEvents(
        `/api/traces/${encodeURIComponent(props.id)}/replay${query({ speed })}`,
        controller.signal,
        (event) => {
          received.push({ event: event.event ?? "message", data: event.data, at: performance.now() - started });
          setReplayed([...received]);
        },
      );
      setReplayState("done");
    } catch (caught) {
      if (!controller.signal.aborted) setReplayState(caught instanceof ApiError ? caught.message : String(caught));
    }
  };

  return (
    <section class="events" id="events">
      <h2>{`Server-Sent Events (${props.page.total})`}</h2>
      <table>
        <thead>
          <tr>
            <th class="num">t_delta_ms</th>
            <th>Event</th>
            <th>Id</th>
            <th>Data</th>
          </tr>
        </thead>
        <tbody>
          {props.page.items.map((event) => (
            <tr key={event.id} class="event">
              <td class="num">{String(event.t_delta_ms)}</td>
              <td>{event.event}</td>
              <td>{event.id_field ?? ""}</td>
              <td>
                <pre class="text">{event.data}</pre>
                {event.data_truncated && <span class="flag truncated">truncated</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.page.next_offset !== null && <button type="button" onClick={props.more}>More events</button>}
      <div class="actions">
        <label>
          {"Speed "}
          <select value={speed} onChange={(event: Event) => setSpeed((event.target as HTMLSelectElement).value)}>
            <option value="1">1×</option>
            <option value="4">4×</option>
            <option value="100">100×</option>
          </select>
        </label>
        <button type="button" id="replay" onClick={replay}>Replay stream</button>
        <span class="muted" id="replay-state">{replayState}</span>
      </div>
      {replayed && (
        <ol class="replayed" id="replayed">
          {replayed.map((item, index) => (
            <li key={index}>{`${Math.round(item.at)} ms · ${item.event} · ${item.data}`}</li>
          ))}
        </ol>
      )}
    </section>
  );
}
