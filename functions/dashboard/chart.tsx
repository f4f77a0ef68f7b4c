// Inline SVG history chart of one promise: execution time over time (line), one
// <circle data-point> per history entry (filled green = kept, hollow red = failed, so the
// shape carries the status too) and a kept/failed band along the top.
import {
  type ChartSeries,
  chartSeries,
  formatDuration,
  formatShortTime,
  formatTime,
  type HistoryEntry,
} from './view-model.ts';

/** `messageChars`: the characters of a result's message shown in its point's tooltip. */
export function HistoryChart(props: { title: string; history: HistoryEntry[]; messageChars?: number }) {
  const s: ChartSeries = chartSeries(props.history);
  if (s.points.length === 0) {
    return <p class="empty">No history yet.</p>;
  }
  const span = Math.abs(Date.parse(s.lastDate ?? '') - Date.parse(s.firstDate ?? ''));
  const bandW = Math.max(2, Math.min(12, (s.right - s.left) / Math.max(1, s.points.length)));
  const label = `History of ${props.title}: ${s.points.length} results, ${s.kept} kept, ${s.failed} failed; execution time up to ${formatDuration(s.maxExecutionTimeMs)}`;
  return (
    <figure class="history">
      <svg
        class="chart"
        viewBox={`0 0 ${s.width} ${s.height}`}
        role="img"
        aria-label={label}
        data-chart={props.title}
        data-points={String(s.points.length)}
      >
        <title>{label}</title>
        <line class="axis" x1={s.left} y1={s.bottom} x2={s.right} y2={s.bottom} />
        <line class="axis" x1={s.left} y1={s.top} x2={s.left} y2={s.bottom} />
        <text x={s.left - 3} y={s.top + 3} text-anchor="end">
          {formatDuration(s.maxExecutionTimeMs)}
        </text>
        <text x={s.left - 3} y={s.bottom} text-anchor="end">
          0
        </text>
        <text x={s.left} y={s.height - 2}>
          {formatShortTime(s.firstDate, span)}
        </text>
        <text x={s.right} y={s.height - 2} text-anchor="end">
          {s.points.length > 1 ? formatShortTime(s.lastDate, span) : ''}
        </text>
        {s.points.map((p) => (
          <rect
            class={p.failed ? 'band-failed' : 'band-kept'}
            x={Math.round((p.x - bandW / 2) * 10) / 10}
            y={4}
            width={bandW}
            height={p.failed ? 9 : 5}
          />
        ))}
        <path class="line" d={s.path} />
        {s.points.map((p) => (
          <circle
            data-point
            data-status={p.failed ? 'failed' : 'kept'}
            class={p.failed ? 'failed' : 'kept'}
            cx={p.x}
            cy={p.y}
            r={p.failed ? 3.2 : 2.8}
          >
            <title>
              {`${formatTime(p.date)} ${p.failed ? 'FAILED' : 'kept'} in ${formatDuration(p.executionTimeMs)}${p.message ? `: ${p.message.slice(0, props.messageChars ?? 200)}` : ''}`}
            </title>
          </circle>
        ))}
      </svg>
      <figcaption class="legend">
        <span class="k">kept {s.kept}</span> · <span class="f">failed {s.failed}</span> · line: execution time
      </figcaption>
    </figure>
  );
}
