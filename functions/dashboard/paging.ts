// Paging and filters of the dashboard's tables, as plain functions of the page's query
// string (no I/O): what a page asks the API for, and the links and forms that move to the
// next page or change a filter. Every list the dashboard reads is one API page of `limit`
// items (SPEC §3 "Fleet scale"), so a page's size is bounded by `limit` × the row size
// whatever the fleet.
//
// Moving through pages: the API's cursors only go forward, so the dashboard offers "First
// page" and "Next page" (the cursor in the URL); the browser's Back button goes back (each
// page is its own URL). A stack of previous cursors in the URL was left out: opaque
// cursors of up to 2 KiB each would make the URL grow with every page.
import { ID_PATTERN } from '../../protocol/index.ts';

/** Rows per page offered by the tables (the first is the default); see TABLE_SIZES. */
export type PageSizes = readonly [number, ...number[]];

/**
 * Page sizes of each table, chosen so that a full page with the longest texts the master
 * keeps stays under 1 MiB (test/unit/dashboard-paging.test.ts renders them).
 */
export const TABLE_SIZES = {
  computers: [100, 50, 200],
  partitions: [100, 50, 200],
  /** Partitions per page of the crimes list (up to 4 crimes, so 4 rows, each). */
  crimes: [100, 50],
  bangs: [50, 100, 200],
  /** Reports per page of a partition (its promises' charts show the results in those reports). */
  reports: [50, 20],
  /** Recorded events (a computer's event lists up to 100 partitions; the row shows counts only). */
  events: [50, 100, 200],
  silences: [50, 100, 200],
  channels: [50, 100],
} as const satisfies Record<string, PageSizes>;

/** Failing partitions shown on the fleet page (a link goes to all of them). */
export const FLEET_FAILING_ROWS = 20;
/** Bangs shown on a partition's page (a link goes to its whole bang log). */
export const PARTITION_BANG_ROWS = 20;
/** Bangs read for a tree's page: its bangs among the latest of the fleet. */
export const TREE_BANG_SCAN = 100;

/** Longest cursor carried in a link (the API accepts 2,048 characters). */
const CURSOR_MAX = 2048;

export type ColourFilter = 'green' | 'orange' | 'red';

/** What a list page shows: one API page and its filters, read from the query string. */
export interface ListParams {
  limit: number;
  cursor?: string;
  /**
   * The row number of this page's first row (1 on the first page; carried by the Next link,
   * for "rows 101–200"). Counted from the rows shown, as an API page may hold fewer than
   * `limit` items (it is cut before 1 MiB). Unknown for a cursor without it.
   */
  from?: number;
  colour?: ColourFilter;
  /** Partitions of this instance tree. */
  tree?: string;
  /** Partitions of this computer. */
  computer?: string;
  /** Bangs of this partition. */
  partition?: string;
}

export type Query = Record<string, string | undefined>;

function positiveInt(value: string | undefined): number | undefined {
  if (!value || !/^\d{1,9}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 ? n : undefined;
}

const idOrUndefined = (value: string | undefined): string | undefined => {
  const v = value?.trim();
  return v ? v : undefined;
};

/**
 * The list parameters of a page's query string: a page size not offered falls back to the
 * table's default, a colour not offered is dropped; ids are passed on as typed (the API
 * answers a bad one with 400, shown as a "Bad request" page).
 */
export function listParams(q: Query, sizes: PageSizes, colours: readonly ColourFilter[] = ['green', 'orange', 'red']): ListParams {
  const asked = positiveInt(q['limit']);
  const limit = asked !== undefined && sizes.includes(asked) ? asked : sizes[0];
  const cursor = q['cursor'] && q['cursor'].length <= CURSOR_MAX ? q['cursor'] : undefined;
  const colour = colours.find((c) => c === q['colour']);
  const out: ListParams = { limit };
  if (cursor) {
    out.cursor = cursor;
    const from = positiveInt(q['from']);
    if (from && from > 1) out.from = from;
  } else out.from = 1;
  if (colour) out.colour = colour;
  for (const key of ['tree', 'computer', 'partition'] as const) {
    const v = idOrUndefined(q[key]);
    if (v) out[key] = v;
  }
  return out;
}

/** The query string of a list page (defaults left out, so links stay short and stable). */
export function listHref(path: string, p: ListParams, sizes: PageSizes): string {
  const q = new URLSearchParams();
  if (p.colour) q.set('colour', p.colour);
  if (p.tree) q.set('tree', p.tree);
  if (p.computer) q.set('computer', p.computer);
  if (p.partition) q.set('partition', p.partition);
  if (p.limit !== sizes[0]) q.set('limit', String(p.limit));
  if (p.cursor) {
    q.set('cursor', p.cursor);
    if (p.from) q.set('from', String(p.from));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Links of a page: first, next (null on the last page), and each page size (from the first page). */
export interface PagerLinks {
  first: string | null;
  next: string | null;
  sizes: { limit: number; href: string; current: boolean }[];
  /** Rows on this page. */
  shown: number;
  /** Row numbers of the first and last row shown ("rows 101–200"), when known. */
  from?: number;
  to?: number;
}

export function pagerLinks(path: string, p: ListParams, sizes: PageSizes, shown: number, nextCursor: string | null): PagerLinks {
  const first: ListParams = { ...p, from: 1, cursor: undefined };
  const links: PagerLinks = {
    first: p.cursor ? listHref(path, first, sizes) : null,
    next: nextCursor ? listHref(path, { ...p, cursor: nextCursor, from: p.from ? p.from + shown : undefined }, sizes) : null,
    sizes: sizes
      .slice()
      .sort((a, b) => a - b)
      .map((limit) => ({ limit, href: listHref(path, { ...first, limit }, sizes), current: limit === p.limit })),
    shown,
  };
  if (p.from && shown) {
    links.from = p.from;
    links.to = p.from + shown - 1;
  }
  return links;
}

/** A search box's text when it can be an id (what the API would accept), else null. */
export function searchId(q: string | undefined): string | null {
  const v = q?.trim() ?? '';
  return v.length >= 1 && v.length <= 128 && ID_PATTERN.test(v) ? v : null;
}

/** Cuts a shown text to its last `max` characters (what matters in a log), marked with "…". */
export function clip(text: string, max: number): string {
  return text.length > max ? `…${text.slice(text.length - max)}` : text;
}
