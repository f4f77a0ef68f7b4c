// Pure view-model functions of the dashboard: no I/O, the clock is always passed in.
// Everything the pages show that needs a computation (time ago, durations, chart geometry)
// lives here (paging links: paging.ts) so that it is unit-tested without a browser.
// Master rules (worst colour, quota day) are the domain's and the protocol's, not redefined.

export type Colour = 'green' | 'orange' | 'red' | 'unknown';

export const COLOUR_LABEL: Record<Colour, string> = {
  green: 'OK',
  orange: 'LATE',
  red: 'FAIL',
  unknown: '?',
};

function parseTime(value: string | number | Date | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const t = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * "3 min ago" style relative time. `never` when there is no date; future dates (a skewed
 * clock) read "in 2 min". Units: s < 60 s, min < 60 min, h < 48 h, then days.
 */
export function timeAgo(value: string | number | Date | null | undefined, now: Date): string {
  const t = parseTime(value);
  if (t === undefined) return 'never';
  const diff = now.getTime() - t;
  const abs = Math.abs(diff);
  let text: string;
  if (abs < 5_000) return 'just now';
  if (abs < 60_000) text = `${Math.floor(abs / 1000)} s`;
  else if (abs < 3_600_000) text = `${Math.floor(abs / 60_000)} min`;
  else if (abs < 48 * 3_600_000) text = `${Math.floor(abs / 3_600_000)} h`;
  else text = `${Math.floor(abs / 86_400_000)} d`;
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/** Human duration of a measured time: "850 ms", "12.3 s", "4 min 05 s". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const min = Math.floor(ms / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${min} min ${String(s).padStart(2, '0')} s`;
}

/** ISO timestamp shortened for tables, always UTC: "2025-11-25 18:03:07Z". */
export function formatTime(value: string | number | Date | null | undefined): string {
  const t = parseTime(value);
  if (t === undefined) return '–';
  return `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/**
 * Compact UTC time for chart axes: "11-25 18:03Z", or "18:03:07Z" when the chart spans
 * less than `spanMs` = 2 h (so close points get distinct labels).
 */
export function formatShortTime(value: string | number | Date | null | undefined, spanMs = Number.POSITIVE_INFINITY): string {
  const t = parseTime(value);
  if (t === undefined) return '–';
  const iso = new Date(t).toISOString();
  return spanMs < 2 * 3_600_000 ? `${iso.slice(11, 19)}Z` : `${iso.slice(5, 16).replace('T', ' ')}Z`;
}

// ---------------------------------------------------------------------------------------
// History chart

export interface HistoryEntry {
  date: string;
  failed: boolean;
  executionTimeMs: number;
  message?: string;
}

export interface ChartPoint {
  x: number;
  /** y of the execution-time line */
  y: number;
  failed: boolean;
  date: string;
  executionTimeMs: number;
  message: string;
}

export interface ChartSeries {
  width: number;
  height: number;
  /** plotting area */
  left: number;
  right: number;
  top: number;
  bottom: number;
  points: ChartPoint[];
  /** SVG path "M x y L x y ..." through the points (execution time over time) */
  path: string;
  maxExecutionTimeMs: number;
  firstDate?: string;
  lastDate?: string;
  kept: number;
  failed: number;
}

export interface ChartOptions {
  width?: number;
  height?: number;
}

/**
 * Chart geometry for one promise's history: one point per history entry (oldest left),
 * x spread over time (evenly when all dates are equal or unparsable), y = execution
 * time scaled to the largest one (0 at the bottom). Entries with a bad date are ordered
 * by position and kept: every entry the API returned is drawn.
 */
export function chartSeries(history: readonly HistoryEntry[], options: ChartOptions = {}): ChartSeries {
  const width = options.width ?? 360;
  const height = options.height ?? 100;
  const left = 44;
  const right = width - 6;
  const top = 18;
  const bottom = height - 14;
  const entries = history
    .map((h, index) => ({ h, index, t: Date.parse(h.date) }))
    .sort((a, b) => {
      const at = Number.isFinite(a.t) ? a.t : Number.NEGATIVE_INFINITY;
      const bt = Number.isFinite(b.t) ? b.t : Number.NEGATIVE_INFINITY;
      return at - bt || a.index - b.index;
    });
  const times = entries.map((e) => e.t).filter((t) => Number.isFinite(t));
  const tMin = times.length ? Math.min(...times) : 0;
  const tMax = times.length ? Math.max(...times) : 0;
  const byTime = tMax > tMin && times.length === entries.length;
  const maxExec = Math.max(0, ...entries.map((e) => safeMs(e.h.executionTimeMs)));
  const n = entries.length;
  const points: ChartPoint[] = entries.map((e, i) => {
    const frac = byTime ? (e.t - tMin) / (tMax - tMin) : n === 1 ? 0.5 : i / (n - 1);
    const exec = safeMs(e.h.executionTimeMs);
    return {
      x: round(left + frac * (right - left)),
      y: round(maxExec > 0 ? bottom - (exec / maxExec) * (bottom - top) : bottom),
      failed: Boolean(e.h.failed),
      date: e.h.date,
      executionTimeMs: exec,
      message: e.h.message ?? '',
    };
  });
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x} ${p.y}`).join(' ');
  const failed = points.filter((p) => p.failed).length;
  return {
    width,
    height,
    left,
    right,
    top,
    bottom,
    points,
    path,
    maxExecutionTimeMs: maxExec,
    firstDate: entries[0]?.h.date,
    lastDate: entries[n - 1]?.h.date,
    kept: n - failed,
    failed,
  };
}

function safeMs(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
