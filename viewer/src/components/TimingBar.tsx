/**
 * Where an exchange's time went: sending the request (until its body was
 * read), waiting for the upstream's head, and the response body. Drawn in
 * SVG with attribute widths, since the page's CSP allows no inline styles.
 */
import type { HttpRecord } from "../../../src/shared/record.ts";
import { formatDuration } from "../format.ts";

export function TimingBar(props: { record: HttpRecord }) {
  const { duration_ms: total, ttfb_request_ms: request, ttfb_response_ms: head } = props.record;
  const scale = total > 0 ? 100 / total : 0;
  const sendEnd = Math.min(request, total);
  const waitEnd = Math.min(Math.max(head, sendEnd), total);
  const segments = [
    { name: "request", from: 0, to: sendEnd },
    { name: "wait", from: sendEnd, to: waitEnd },
    { name: "response", from: waitEnd, to: total },
  ];
  return (
    <section class="timing" id="timing">
      <svg viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label="Timing">
        {segments.map((segment) => (
          <rect
            key={segment.name}
            class={`t-${segment.name}`}
            x={String(segment.from * scale)}
            y="0"
            width={String(Math.max((segment.to - segment.from) * scale, 0))}
            height="6"
          />
        ))}
      </svg>
      <div class="legend">
        <span class="t-request">{`request ${formatDuration(request)}`}</span>
        <span class="t-wait">{`first byte of response ${formatDuration(head)}`}</span>
        <span class="t-response">{`total ${formatDuration(total)}`}</span>
      </div>
    </section>
  );
}
